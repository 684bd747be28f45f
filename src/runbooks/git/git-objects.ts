export interface CommitInfo {
  /** The full 40-hex commit hash. */
  hash: string;
  /** `Name <email>`. */
  author: string;
  /** The whole commit message, without trailing newlines. */
  message: string;
  /** The author date, ISO 8601 with the author's UTC offset. */
  date: string;
}

export interface TreeFile {
  /** Repository-relative, `/`-separated, as stored in git. */
  path: string;
  size: number;
  /** The blob's object id. */
  blob: string;
}

/** `git log` format that `parseCommitInfo` reads: fields separated by NUL, the message last. */
export const COMMIT_INFO_FORMAT = '--format=%H%x00%an <%ae>%x00%aI%x00%B';

export function parseCommitInfo(output: string): CommitInfo {
  const [hash = '', author = '', date = '', ...message] = output.split('\0');
  return { hash, author, date, message: message.join('\0').replace(/\n+$/, '') };
}

const SYMLINK_MODE = '120000';
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads `git ls-tree -r -l -z`: records `<mode> <type> <object> <size>\t<path>` ended by NUL,
 * the size padded with spaces. Only regular files are kept: submodules (type commit) and
 * symlinks are not runbooks, and neither is a path that is not UTF-8, which no client could name.
 */
export function parseTreeListing(output: Buffer): TreeFile[] {
  const files: TreeFile[] = [];
  let start = 0;
  while (start < output.length) {
    let end = output.indexOf(0, start);
    if (end < 0) end = output.length;
    const record = output.subarray(start, end);
    start = end + 1;
    const tab = record.indexOf(0x09);
    if (tab < 0) continue;
    const [mode, type, blob, size] = record.subarray(0, tab).toString('latin1').split(/ +/);
    if (type !== 'blob' || mode === SYMLINK_MODE || blob === undefined || !/^\d+$/.test(size ?? '')) continue;
    let filePath: string;
    try {
      filePath = utf8.decode(record.subarray(tab + 1));
    } catch {
      continue;
    }
    files.push({ path: filePath, size: Number(size), blob });
  }
  return files;
}

/**
 * A path a client may ask for: relative, `/`-separated, without empty, `.` or `..` segments,
 * backslashes or NUL. Anything else can only be an attempt to leave the tree.
 */
export function isCleanRepositoryPath(requested: string): boolean {
  if (requested === '' || requested.includes('\0') || requested.includes('\\')) return false;
  return requested.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}
