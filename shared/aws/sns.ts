import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { MessageAttributes } from '../domain/notifications.ts';

export const sns = new SNSClient({});

export async function publish(
  topicArn: string,
  subject: string,
  message: string,
  attributes: MessageAttributes,
): Promise<string> {
  const out = await sns.send(
    new PublishCommand({
      TopicArn: topicArn,
      // SNS subjects: at most 100 printable ASCII characters, no line breaks.
      Subject: subject.replace(/[^\x20-\x7e]/g, ' ').slice(0, 100),
      Message: message,
      // SNS refuses an empty attribute value: one the message has no value for is left out (a
      // filter on it then does not match, as for any message without it).
      MessageAttributes: Object.fromEntries(
        Object.entries(attributes)
          .filter(([, value]) => value !== '')
          .map(([key, value]) => [key, { DataType: 'String', StringValue: value }]),
      ),
    }),
  );
  return out.MessageId ?? '';
}
