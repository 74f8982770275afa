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
      MessageAttributes: Object.fromEntries(
        Object.entries(attributes).map(([key, value]) => [key, { DataType: 'String', StringValue: value }]),
      ),
    }),
  );
  return out.MessageId ?? '';
}
