/**
 * The few weakest relations of one subject, kept exact while weights only
 * grow, so that a full subject evicts its weakest without a pass over all of
 * its relations each time: one pass finds the `size` weakest, and the next
 * `size` evictions take them in turn. Where a user reads something new on
 * nearly every read (a viewer of popular ads), every read of a full subject
 * evicts, and the pass per eviction was a sixth of the analyzer's learning.
 *
 * Order is (weight, insertion sequence): the earliest inserted of equal
 * weights is the weakest, as a first-found minimum over the map (insertion
 * order) would pick. The invariant: every relation not on the list ranks
 * after (bound, boundSeq), the last of the list when it was made. Weights
 * only grow, so a relation off the list stays after it; one on the list
 * that grows is moved (or leaves it, once it ranks after the bound); a new
 * relation joins when it ranks before the bound.
 */
export interface Ranked {
  /** The weight, scaled to the subject's landmark. */
  g: number;
  /** Insertion order within the subject. */
  readonly seq: number;
}

interface Entry<W extends Ranked> {
  id: string;
  w: W;
}

export class WeakestRelations<W extends Ranked> {
  readonly #list: Entry<W>[] = [];
  #bound = 0;
  #boundSeq = 0;
  #valid = false;

  constructor(private readonly size: number) {}

  /** Forgets the list (the subject's weights were rescaled): the next `take` makes it anew. */
  reset(): void {
    this.#valid = false;
    this.#list.length = 0;
  }

  /** The weakest of `related`, removed from the list (not from the map); undefined when empty. */
  take(related: ReadonlyMap<string, W>): string | undefined {
    if (!this.#valid || this.#list.length === 0) this.#scan(related);
    const head = this.#list.shift();
    if (head === undefined) return undefined;
    if (related.get(head.id) === head.w) return head.id;
    // Not what the map holds (it changed behind the list's back): a fresh pass answers.
    this.#scan(related);
    return this.#list.shift()?.id;
  }

  /** A relation was added: it joins the list when it ranks before the bound. */
  added(id: string, w: W): void {
    if (!this.#valid || !before(w.g, w.seq, this.#bound, this.#boundSeq)) return;
    this.#insert({ id, w });
  }

  /** A relation's weight grew from `was`: where it was on the list, it moves, or leaves. */
  grew(w: W, was: number): void {
    // The bound's own relation is on the list too: at the bound counts.
    if (!this.#valid || before(this.#bound, this.#boundSeq, was, w.seq)) return;
    const at = this.#list.findIndex((e) => e.w === w);
    if (at < 0) return;
    const [entry] = this.#list.splice(at, 1);
    if (entry !== undefined && before(w.g, w.seq, this.#bound, this.#boundSeq)) this.#insert(entry);
  }

  #insert(entry: Entry<W>): void {
    let i = this.#list.length;
    while (i > 0 && before(entry.w.g, entry.w.seq, this.#list[i - 1]!.w.g, this.#list[i - 1]!.w.seq)) i--;
    this.#list.splice(i, 0, entry);
  }

  #scan(related: ReadonlyMap<string, W>): void {
    const list = this.#list;
    list.length = 0;
    const size = this.size;
    // forEach, not for-of: a for-of over a Map's entries builds a pair per relation.
    related.forEach((w, id) => {
      if (list.length === size) {
        const last = list[size - 1]!;
        if (!before(w.g, w.seq, last.w.g, last.w.seq)) return;
        list.pop();
      }
      this.#insert({ id, w });
    });
    // A list that holds every relation bounds nothing: whatever is added later joins it.
    const last = list.length < size ? undefined : list[size - 1];
    this.#bound = last === undefined ? Number.POSITIVE_INFINITY : last.w.g;
    this.#boundSeq = last === undefined ? 0 : last.w.seq;
    this.#valid = true;
  }
}

function before(g: number, seq: number, thanG: number, thanSeq: number): boolean {
  return g < thanG || (g === thanG && seq < thanSeq);
}
