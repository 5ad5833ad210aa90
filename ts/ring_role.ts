/**
 * The producer and consumer roles of a ring: one process holds each, taken
 * on first use (or by `attachProducer()` / `attachConsumer()`) and taken over
 * from a holder that died. Not part of the public API.
 *
 * @module
 */

import type { Endpoint } from "./endpoint.ts";
import { WshmError } from "./errors.ts";

/** @internal One role of one ring handle: whether this handle holds it, and how it takes it. */
export class RingRole {
  /** True while this handle holds the role. */
  held = false;
  readonly #end: Endpoint;
  readonly #role: number;
  readonly #what: "producer" | "consumer";

  constructor(end: Endpoint, what: "producer" | "consumer") {
    this.#end = end;
    this.#what = what;
    this.#role = what === "producer" ? end.k.ROLE_PRODUCER : end.k.ROLE_CONSUMER;
  }

  /** Takes the role; true if its previous holder had died. Throws `Exists` if a live process holds it. */
  attach(): boolean {
    const end = this.#end;
    const k = end.k;
    end.segment.assertOpen();
    const status = end.core.ringAttach(end.handle, this.#role);
    if (status === -k.EXISTS) {
      const pid = end.core.ringInfo(
        end.handle,
        this.#role === k.ROLE_PRODUCER ? k.RING_INFO_PRODUCER : k.RING_INFO_CONSUMER,
      );
      throw new WshmError(
        "Exists",
        `Cannot attach as ${this.#what} of ring "${end.name}": process ${pid} is its ${this.#what}`,
      );
    }
    if (status < 0) end.fail(status, `attach to`);
    this.held = true;
    return status === k.OWNER_DIED;
  }

  /** Takes the role unless this handle holds it already. */
  ensure(): void {
    if (!this.held) this.attach();
  }

  /** Gives the role up, if held. */
  detach(): void {
    if (this.held) this.#end.core.ringDetach(this.#end.handle, this.#role);
    this.held = false;
  }
}
