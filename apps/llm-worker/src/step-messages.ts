import { randomUUID } from 'node:crypto';
import {
  messageDate,
  messageEnvelope,
  type ApprovalRequestMessage,
  type AssistantMessage,
  type HiddenReasoningMessage,
  type LettaMessage,
  type ReasoningMessage,
  type ToolCall,
  type ToolCallMessage,
  type ToolReturnMessage,
} from '@lrs/contracts';

export interface StepMessageContext {
  runId: string;
  stepId: string;
  now: Date;
  /** Id and otid the assistant message was streamed under, so its token deltas and the stored message match. */
  assistant?: { id: string; otid: string };
  /** The same for the reasoning message. */
  reasoning?: { id: string; otid: string };
}

/** What the model answered, as far as the step's messages go. */
export interface ModelAnswer {
  text: string;
  reasoning: string;
  hiddenReasoning: string | null;
}

export interface ToolOutcome {
  call: ToolCall;
  status: 'success' | 'error';
  output: string;
  /** Letta's `send_message`: the text the call sends the user, stored as the step's assistant message. */
  assistantMessage?: string;
  /** What a sandboxed tool printed, as Letta's tool_return_message has it. */
  stdout?: string[];
  stderr?: string[];
}

/** The messages the step's `send_message` calls sent (their joined length decides, as a text answer's would, that the turn ends). */
export function sentMessages(outcomes: readonly ToolOutcome[]): string[] {
  return outcomes.flatMap((outcome) => (outcome.assistantMessage === undefined ? [] : [outcome.assistantMessage]));
}

function base(context: StepMessageContext) {
  return messageEnvelope({ runId: context.runId, date: messageDate(context.now), otid: randomUUID(), stepId: context.stepId });
}

/**
 * The messages one model reply produces: its reasoning (shown, or kept hidden when the provider
 * sent it only encrypted), its text, the tool calls the server ran with their results, and the
 * calls it paused on (client tools, or tools that need approval).
 */
export function stepMessages(context: StepMessageContext, answer: ModelAnswer, outcomes: ToolOutcome[], pending: ToolCall[] = []): LettaMessage[] {
  const messages: LettaMessage[] = [];
  if (answer.reasoning.length > 0) {
    const reasoning: ReasoningMessage = {
      ...base(context),
      ...context.reasoning,
      message_type: 'reasoning_message',
      source: 'reasoner_model',
      reasoning: answer.reasoning,
      signature: null,
    };
    messages.push(reasoning);
  } else if (answer.hiddenReasoning !== null) {
    const hidden: HiddenReasoningMessage = { ...base(context), ...context.reasoning, message_type: 'hidden_reasoning_message', state: 'redacted', hidden_reasoning: answer.hiddenReasoning };
    messages.push(hidden);
  }
  const { text } = answer;
  if (text.length > 0) {
    const assistant: AssistantMessage = { ...base(context), ...context.assistant, message_type: 'assistant_message', content: text };
    messages.push(assistant);
  }
  // A send_message call is the answer it carries, as Letta shows it: an assistant message, not a tool call and its return.
  for (const content of sentMessages(outcomes)) messages.push({ ...base(context), message_type: 'assistant_message', content } satisfies AssistantMessage);
  const ran = outcomes.filter((outcome) => outcome.assistantMessage === undefined);
  if (ran.length > 0) {
    const calls = ran.map((outcome) => outcome.call);
    const callMessage: ToolCallMessage = { ...base(context), message_type: 'tool_call_message', tool_call: calls[0], tool_calls: calls };
    messages.push(callMessage, ...toolReturnMessages(context, ran));
  }
  if (pending.length > 0) {
    const request: ApprovalRequestMessage = { ...base(context), message_type: 'approval_request_message', tool_call: pending[0], tool_calls: pending };
    messages.push(request);
  }
  return messages;
}

export function toolReturnMessages(context: StepMessageContext, outcomes: ToolOutcome[]): ToolReturnMessage[] {
  return outcomes.map((outcome) => ({
    ...base(context),
    message_type: 'tool_return_message',
    tool_return: outcome.output,
    status: outcome.status,
    tool_call_id: outcome.call.tool_call_id,
    stdout: outcome.stdout ?? null,
    stderr: outcome.stderr ?? null,
    tool_returns: [
      { type: 'tool', tool_call_id: outcome.call.tool_call_id, tool_return: outcome.output, status: outcome.status, stdout: outcome.stdout ?? null, stderr: outcome.stderr ?? null },
    ],
  }));
}
