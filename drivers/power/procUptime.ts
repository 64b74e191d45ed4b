const UPTIME = /^\s*(\d+(?:\.\d+)?)\s+\d+(?:\.\d+)?\s*$/;

/**
 * The first number of Linux's /proc/uptime ("<seconds since boot> <idle seconds>"),
 * or undefined when the text is anything else (a remote answer is external input).
 */
export function parseProcUptime(text: string): number | undefined {
  const m = UPTIME.exec(text);
  return m ? Number(m[1]) : undefined;
}
