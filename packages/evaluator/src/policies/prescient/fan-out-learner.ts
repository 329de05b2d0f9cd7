/**
 * Learns fan-out rules from a trace that has events but no configured rules
 * for them: for each event type, the share of its events whose entity is
 * then read, per task type, within `windowMs` of the event's anchor. A task
 * type read after at least `minShare` of at least `minSupport` events joins
 * the rule. What it produces is a rule like a configured one, applied by the
 * precomputer's own fan-out.
 */
export interface FanOutLearnerSettings {
  windowMs: number;
  minSupport: number;
  minShare: number;
}

interface Open {
  event: string;
  anchor: number;
  seen: Set<string>;
}

export class FanOutLearner {
  readonly #s: FanOutLearnerSettings;
  /** event type → events observed, and task type → events followed by a read of it. */
  readonly #stats = new Map<string, { events: number; followed: Map<string, number> }>();
  /** tenant/entity → events awaiting their reads. */
  readonly #open = new Map<string, Open[]>();

  constructor(settings: FanOutLearnerSettings) {
    this.#s = settings;
  }

  observeEvent(tenant: string, entity: string, event: string, anchor: number): void {
    let st = this.#stats.get(event);
    if (st === undefined) {
      st = { events: 0, followed: new Map() };
      this.#stats.set(event, st);
    }
    st.events++;
    const id = `${tenant}\u0000${entity}`;
    const list = this.#open.get(id) ?? [];
    list.push({ event, anchor, seen: new Set() });
    this.#open.set(id, list);
  }

  observeRead(tenant: string, entity: string, taskType: string, time: number): void {
    const id = `${tenant}\u0000${entity}`;
    const list = this.#open.get(id);
    if (list === undefined) return;
    const live = list.filter((o) => time <= o.anchor + this.#s.windowMs);
    for (const o of live) {
      if (time < o.anchor - this.#s.windowMs || o.seen.has(taskType)) continue;
      o.seen.add(taskType);
      const followed = this.#stats.get(o.event)!.followed;
      followed.set(taskType, (followed.get(taskType) ?? 0) + 1);
    }
    if (live.length === 0) this.#open.delete(id);
    else if (live.length !== list.length) this.#open.set(id, live);
  }

  /** Task types the event type's reads are learned to follow; empty until there is support. */
  targets(event: string): string[] {
    const st = this.#stats.get(event);
    if (st === undefined || st.events < this.#s.minSupport) return [];
    return [...st.followed]
      .filter(([, n]) => n / st.events >= this.#s.minShare)
      .map(([t]) => t)
      .sort();
  }
}
