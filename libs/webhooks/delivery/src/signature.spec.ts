import { createHmac } from 'node:crypto';
import { signStandardWebhook } from './signature';

describe('signStandardWebhook', () => {
  it('matches the Standard Webhooks published example', () => {
    expect(
      signStandardWebhook(
        'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        'msg_p5jXN8AQM9LWM0D4loKWxJek',
        1614265330,
        '{"test": 2432232314}',
      ),
    ).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('uses a secret without the whsec_ prefix as raw UTF-8 key bytes', () => {
    const expected = createHmac('sha256', Buffer.from('plain-secret', 'utf8'))
      .update('msg_1.1700000000.{"a":1}')
      .digest('base64');
    expect(signStandardWebhook('plain-secret', 'msg_1', 1700000000, '{"a":1}')).toBe(`v1,${expected}`);
  });

  it('signs the body as UTF-8 text', () => {
    const body = '{"message":"héllo ✓"}';
    const expected = createHmac('sha256', 'k').update(Buffer.from(`id.1.${body}`, 'utf8')).digest('base64');
    expect(signStandardWebhook('k', 'id', 1, body)).toBe(`v1,${expected}`);
  });

  it('changes when any signed component changes', () => {
    const base = signStandardWebhook('k', 'id', 1, '{}');
    expect(signStandardWebhook('k', 'id2', 1, '{}')).not.toBe(base);
    expect(signStandardWebhook('k', 'id', 2, '{}')).not.toBe(base);
    expect(signStandardWebhook('k', 'id', 1, '{ }')).not.toBe(base);
    expect(signStandardWebhook('k2', 'id', 1, '{}')).not.toBe(base);
  });
});
