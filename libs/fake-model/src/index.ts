export { startFakeModelServer } from './fake-model-server';
export type { FakeModelOptions, FakeModelServer, RecordedRequest } from './fake-model-server';
export { parseDirectives } from './directives';
export { readChatCompletionRequest } from './chat-request';
export type { FakeDirectives, ParsedUserText } from './directives';
export { fakeEmbedding, FAKE_EMBEDDING_DIMENSIONS } from './fake-embeddings';
