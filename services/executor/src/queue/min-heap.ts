interface Entry<T> {
  at: number;
  value: T;
}

/**
 * A binary min-heap ordered by a number (lowest first). The memory queue uses
 * it with lazy deletion: moving a task pushes a new entry, and the stale one
 * is dropped when it surfaces, which keeps every move O(log n).
 */
export class MinHeap<T> {
  readonly #items: Entry<T>[] = [];

  get size(): number {
    return this.#items.length;
  }

  push(at: number, value: T): void {
    this.#items.push({ at, value });
    let i = this.#items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.#at(parent) <= this.#at(i)) break;
      this.#swap(i, parent);
      i = parent;
    }
  }

  /** The lowest entry, left in place. */
  peek(): Entry<T> | undefined {
    return this.#items[0];
  }

  pop(): Entry<T> | undefined {
    const top = this.#items[0];
    const last = this.#items.pop();
    if (top === undefined || last === undefined || this.#items.length === 0) return top;
    this.#items[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      let smallest = i;
      if (this.#at(left) < this.#at(smallest)) smallest = left;
      if (this.#at(left + 1) < this.#at(smallest)) smallest = left + 1;
      if (smallest === i) return top;
      this.#swap(i, smallest);
      i = smallest;
    }
  }

  #at(i: number): number {
    return this.#items[i]?.at ?? Number.POSITIVE_INFINITY;
  }

  #swap(i: number, j: number): void {
    const a = this.#items[i] as Entry<T>;
    this.#items[i] = this.#items[j] as Entry<T>;
    this.#items[j] = a;
  }
}
