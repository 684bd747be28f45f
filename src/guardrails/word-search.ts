/**
 * Finds which of many byte strings occur in a text in one pass (Aho-Corasick), so a rule set with
 * thousands of deny words costs the same per output byte as one with a single word.
 */
export class WordSearch {
  /** Trie edges keyed by `node * 256 + byte`. */
  private readonly edges = new Map<number, number>();
  /** The root's edges as a table (0: none): most bytes of a text are read at the root. */
  private readonly rootEdges = new Int32Array(256);
  private readonly children: number[][] = [[]];
  private readonly fail: number[] = [0];
  /** Ids of the words that end exactly at each node. */
  private readonly ends: number[][] = [[]];
  /** Nearest node on the failure chain that ends a word (-1: none), to list matches quickly. */
  private readonly endLink: number[] = [-1];
  /** Per node, the search that last collected its matches: each node is collected once per search. */
  private visited: Uint32Array;
  private searchId = 0;

  /** Word ids are the indexes in `words`; empty words never match. */
  constructor(words: readonly Uint8Array[]) {
    words.forEach((word, id) => {
      if (word.length > 0) this.ends[this.insert(word)]!.push(id);
    });
    this.linkFailures();
    this.visited = new Uint32Array(this.fail.length);
  }

  /** Ids of the words found in `text`, each once, in no particular order. */
  search(text: Uint8Array): number[] {
    if (++this.searchId === 0xffffffff) {
      this.visited.fill(0);
      this.searchId = 1;
    }
    const found: number[] = [];
    let state = 0;
    for (const byte of text) {
      state = this.step(state, byte);
      for (let node = state; node > 0 && this.visited[node] !== this.searchId; node = this.endLink[node]!) {
        this.visited[node] = this.searchId;
        found.push(...this.ends[node]!);
      }
    }
    return found;
  }

  private insert(word: Uint8Array): number {
    let node = 0;
    for (const byte of word) {
      const key = node * 256 + byte;
      let child = this.edges.get(key);
      if (child === undefined) {
        child = this.fail.length;
        this.edges.set(key, child);
        if (node === 0) this.rootEdges[byte] = child;
        this.children[node]!.push(byte, child);
        this.children.push([]);
        this.fail.push(0);
        this.ends.push([]);
        this.endLink.push(-1);
      }
      node = child;
    }
    return node;
  }

  /** Breadth-first, so a node's failure target (always shallower) is final before it is used. */
  private linkFailures(): void {
    const queue = [0];
    for (let head = 0; head < queue.length; head++) {
      const node = queue[head]!;
      const children = this.children[node]!;
      for (let i = 0; i < children.length; i += 2) {
        const byte = children[i]!;
        const child = children[i + 1]!;
        const target = node === 0 ? 0 : this.step(this.fail[node]!, byte);
        this.fail[child] = target;
        this.endLink[child] = this.ends[target]!.length > 0 ? target : this.endLink[target]!;
        queue.push(child);
      }
    }
  }

  private step(state: number, byte: number): number {
    while (state !== 0) {
      const next = this.edges.get(state * 256 + byte);
      if (next !== undefined) return next;
      state = this.fail[state]!;
    }
    return this.rootEdges[byte]!;
  }
}
