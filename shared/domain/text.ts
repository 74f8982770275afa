/**
 * Text that people wrote, on its way into what operators and approvers read: an approver's comment
 * and name, an alarm's name (config) and reason (anyone allowed SetAlarmState writes one), a build's
 * failure reason (it quotes the config's install command). Put into an SNS body, an execution cause
 * or a page as it is, a newline makes a line of its own ("Deployed web/prod 1.1.0" in a rollback
 * message), and a bidi control reorders what follows it on screen.
 *
 * `quoted` is the one way such text enters a message: one line, in double quotes, as a JSON string
 * literal, so the quote cannot be closed from inside and the original reads back exactly
 * (JSON.parse). Beyond what JSON escapes (C0 controls, `"`, `\`, lone surrogates), every character
 * that breaks a line, steers bidi or is invisible is escaped by its code point: C1 controls and DEL
 * (\p{Cc}), format characters (\p{Cf}: U+200B-200F, U+202A-202E, U+2060-2069, U+061C, U+FEFF, tag
 * characters, ...), and the line and paragraph separators U+2028/2029 (\p{Zl}, \p{Zp}). Letters,
 * marks, emoji and other scripts stay as written (an emoji sequence joined with U+200D shows its
 * joiner escaped: the price of escaping every invisible character).
 *
 * A small function rather than a library: jsesc, the well-kept one, escapes either every non-ASCII
 * character (a comment in German or Hebrew becomes unreadable) or, with `minimal`, leaves bidi
 * controls as they are; JSON.stringify does the rest of the work here.
 */

const INVISIBLE_OR_LINE_BREAKING = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

function escapeUnits(character: string): string {
  let escaped = '';
  for (let i = 0; i < character.length; i++) {
    escaped += `\\u${character.charCodeAt(i).toString(16).padStart(4, '0')}`;
  }
  return escaped;
}

/** Text from a person as one quoted line, safe in a notification, a cause or a page. */
export function quoted(text: string): string {
  return JSON.stringify(String(text)).replace(INVISIBLE_OR_LINE_BREAKING, escapeUnits);
}

/**
 * Any text kept to one line the same way, without quotes: for a cause as a whole, whose parts from
 * people are quoted already (this changes nothing in them), so that no source that forgot to quote
 * can add a line to a notification.
 */
export function oneLine(text: string): string {
  return String(text).replace(/[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/gu, escapeUnits);
}

/**
 * An alarm as causes name it: its name and CloudWatch's (or a person's) reason, both quoted; with
 * when it went into ALARM (`since`) when CloudWatch says, and one that was in ALARM at `firedAt`
 * and has cleared since says so. The rollback reads the time back (alarmedAtOf).
 */
export function alarmText(
  name: string,
  reason: string | undefined,
  firedAt?: string,
  since?: string,
): string {
  const why = reason ? quoted(reason) : 'no reason';
  const state = firedAt
    ? `in ALARM at ${firedAt}, cleared since: `
    : since
      ? `in ALARM since ${since}: `
      : '';
  return `${quoted(name)} (${state}${why})`;
}

/** The alarms named one after the other, each with its reason. */
export function alarmList(alarming: Alarming): string {
  return alarming.map((a) => alarmText(a.name, a.reason, a.firedAt, a.since)).join(', ');
}

type Alarming = readonly { name: string; reason: string; firedAt?: string; since?: string }[];

const ALARMS_CAUSE = 'alarm in ALARM: ';

/** The alarms in ALARM, as the cause that fails a deployment names them. */
export function alarmsCause(alarming: Alarming): string {
  return `${ALARMS_CAUSE}${alarmList(alarming)}`;
}

// One alarm as alarmText writes it: a quoted text is a JSON string literal, so nothing a person
// wrote in a name or a reason can close it and pass for a time.
const LITERAL = String.raw`"(?:[^"\\]|\\.)*"`;
const INSTANT = String.raw`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z`;
const ALARM_TEXT = new RegExp(
  `${LITERAL} \\((?:in ALARM (?:since|at) (${INSTANT})(?:, cleared since)?: )?(?:${LITERAL}|no reason)\\)`,
  'y',
);

/**
 * When the earliest alarm an alarm cause names went into ALARM (alarmsCause wrote it, with the
 * time each alarm's state says); undefined when the cause is no such text or names no time.
 */
export function alarmedAtOf(message: string): string | undefined {
  if (!message.startsWith(ALARMS_CAUSE)) return undefined;
  const times: string[] = [];
  let at = ALARMS_CAUSE.length;
  for (;;) {
    ALARM_TEXT.lastIndex = at;
    const match = ALARM_TEXT.exec(message);
    if (!match) break;
    if (match[1]) times.push(match[1]);
    at = ALARM_TEXT.lastIndex;
    if (!message.startsWith(', ', at)) break;
    at += 2;
  }
  return times.sort()[0];
}

/** What a watched alarm that fires before any traffic reached green says. */
export function firingBeforeTraffic(alarming: Alarming): string {
  return `alarm in ALARM before any traffic moved to the release, so not caused by it: ${alarmList(alarming)}`;
}

/** Watched alarms CloudWatch no longer has, as a cause names them. */
export function missingAlarmsCause(missing: readonly string[]): string {
  return `watched alarm no longer exists: ${missing.map(quoted).join(', ')}`;
}

/** How an alarm check's cause is told: before any traffic moved, and at which moment it checked. */
export interface AlarmWords {
  beforeTraffic?: boolean;
  checked?: string;
}

/**
 * The cause an alarm check fails with: the alarms in ALARM, else the watched alarms that are gone;
 * undefined when there are neither.
 */
export function alarmCheckCause(
  report: { alarming: Alarming; missing: readonly string[] },
  words: AlarmWords = {},
): string | undefined {
  const checked = words.checked ? `; checked ${words.checked}` : '';
  if (report.alarming.length > 0) {
    const named = words.beforeTraffic ? firingBeforeTraffic(report.alarming) : alarmsCause(report.alarming);
    return `${named}${checked}`;
  }
  if (report.missing.length > 0) return `${missingAlarmsCause(report.missing)}${checked}`;
  return undefined;
}

/**
 * Text from people kept to one line (oneLine) and to at most `max` characters (code points): a
 * longer one is cut and ends in an ellipsis, never inside an escape oneLine wrote (a `\u20` left
 * over would read as something else).
 */
export function oneLineWithin(text: string, max: number): string {
  const line = Array.from(oneLine(text));
  if (line.length <= max) return line.join('');
  const kept = line
    .slice(0, Math.max(0, max - 1))
    .join('')
    .replace(/\\(?:u[0-9a-f]{0,3})?$/, '');
  return `${kept}…`;
}
