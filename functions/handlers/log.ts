/** One-line JSON logs for CloudWatch Logs Insights. Never logs credentials or request bodies. */
type Fields = Record<string, unknown>;
const write = (level: string, fields: unknown) =>
  console.log(
    JSON.stringify({
      level,
      time: new Date().toISOString(),
      ...(typeof fields === 'object' && fields !== null ? fields : { msg: String(fields) }),
    }),
  );

export const log = {
  info: (fields: Fields | string) => write('INFO', fields),
  warn: (fields: Fields | string) => write('WARN', fields),
  error: (fields: Fields | string) => write('ERROR', fields),
};
