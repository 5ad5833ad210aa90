/*
 * wasm/ring.ts, ring_producer.ts, ring_consumer.ts: the SPSC byte ring with
 * producer death and a new producer that attaches after it.
 *
 *   TAIL, CLAIM_END, HCACHE   producer line (TAIL is the consumer's futex)
 *   HEAD, READ_END, TCACHE    consumer line (HEAD is the producers' futex)
 *   PPID                      the producer role (pid), waiting.ts claimRole
 *   CSLEEP, PSLEEP            consumerSleepers, producerSleepers
 *   HDR[i], D[i]              record i: the length word (IN_PROGRESS while
 *                             claimed) and the payload
 *
 * Records are one unit each and the ring holds CAP (2) of them, so there is
 * no padding record and positions never wrap (they are small counters); a
 * record's length word carries the record's value v (as if each record had
 * its own length) and its payload carries v again, so a payload that does
 * not match its header is a torn record. Producer p's k-th record is
 * v = 8p + k.
 *
 * Pids: producers 1..PRODUCERS (PRODUCERS=2 or 3), the consumer 4. Producer
 * 1 is attached at the start; the others are restarts: each starts once the
 * role is free or its holder dead, attaches with claimRole (ROLE_BUSY: it
 * leaves) and ringAttach, and produces too. Each producer commits ITER
 * records, one claim and one commit at a time, then detaches. Up to
 * MAXDEATHS (1) producers die, anywhere from their first claim to their
 * detach. The consumer reads and releases one record at a time until every
 * producer is gone and the ring is empty. Every atomic.* of the code is one
 * step; every plain load/store is its own step. Comments give line numbers
 * of commit e64d89b (R: ring.ts, P: ring_producer.ts, C: ring_consumer.ts,
 * W: waiting.ts).
 *
 * Left out: the record type word (written before the length word, read
 * after it, like the length), the diagnostic counters, the corruption checks
 * that cannot fail here (asserted instead where they matter: IN_PROGRESS
 * below tail), the holder record (start times: no pid reuse here), consumer
 * death (a new consumer starts from head, by design handing out again what
 * the dead one had not released), and the producer's consumer-liveness check
 * (the consumer does not die).
 *
 * Options (spin -D...):
 *   PRODUCERS=n   2 (default) or 3
 *   ITER=n        records per producer (2)
 *   MAXDEATHS=n   producer deaths (1)
 *   NOT_OWNER_LEAVES  a producer that gets NOT_OWNER leaves (as a careful
 *             caller would) instead of failing the assertion that it never
 *             does: to show that the record checks catch the broken variants
 *   NO_WAKE_INVARIANT  leave out the monitor's lost-wake-up invariants
 *   BROKEN_CLEAR_STORE  deliberately wrong: the consumer's roleDead (clear)
 *             removes a dead producer with a plain store after the liveness
 *             check instead of CAS(pid -> 0): it can erase a new producer
 *             that attached in between
 *   BROKEN_ROLE_STORE   deliberately wrong: claimRole takes a dead holder's
 *             role with a plain store after the liveness check instead of
 *             CAS(dead pid -> self): two restarts can both become producer
 *
 * Checked (assertions): the consumer never reads a record below tail that is
 * still IN_PROGRESS, never a torn one (payload == header), and reads exactly
 * the records published, each once and in order (the record at each position
 * is the one its committer claimed there, and positions are read one after
 * the other); a live producer never loses its role (no NOT_OWNER); PEER_DIED
 * only for a dead producer, once per death; at the end every committed record
 * was read. No invalid end state. Monitor: a consumer queued on TAIL while
 * TAIL moved has a committer between its tail store and its wake; the same
 * for producers queued on HEAD and the consumer's release.
 */

#define N 4
#define CONSUMER 4
#ifndef PRODUCERS
#define PRODUCERS 2
#endif
#ifndef ITER
#define ITER 2
#endif
#ifndef MAXDEATHS
#define MAXDEATHS 1
#endif
#define CAP 2
#define MAXPOS 8
#define IN_PROGRESS 64
#define VALUE 63

byte TAIL, CLAIM_END, HCACHE;
byte HEAD, READ_END, TCACHE;
byte PPID;
byte CSLEEP, PSLEEP;
byte HDR[CAP];
byte D[CAP];

bool queued[N + 1];
bool inflight[N + 1];
bool alive[N + 1];
byte deaths;
byte peerDied;        /* PEER_DIED results the consumer got */
byte gone;            /* producers that finished, left or died */
byte cv[MAXPOS];      /* ghost: the value published at each position (by its committer's tail store) */
byte cexp;            /* ghost: the value of TAIL the consumer sleeps on */
byte pexp[N + 1];     /* ghost: the value of HEAD a producer sleeps on */
byte pendC;           /* committers between their tail store and their look at CSLEEP / wake */
byte pendP;           /* the releaser between its head store and its look at PSLEEP / wake */

#define SLICES
#include "futex.pml"

#define MAYBE_DIE \
  if \
  :: d_step { deaths < MAXDEATHS; alive[me] = false; deaths++ }; goto died \
  :: skip \
  fi

/* ringClaim, ringCommit, ringDetach: the role must still be ours */
#ifdef NOT_OWNER_LEAVES
#define OWNER_CHECK if :: PPID != me -> goto lost :: else fi
#else
#define OWNER_CHECK d_step { assert(PPID == me) }
#endif

inline wake_consumer() {
  if
  :: queued[CONSUMER] -> queued[CONSUMER] = false; inflight[CONSUMER] = true
  :: else
  fi
}

proctype Producer(byte me) {
  byte k, v, pos, h, t, e, q, w, cur, res, mine[MAXPOS];
  bool dead, takenOver, registered, checkPeer;

  if
  :: me == 1 -> goto produce             /* attached at the start */
  :: else
  fi;
  /* a restart: it starts once the role is free or its holder is dead */
end_start:
  atomic { PPID == 0 || !alive[PPID] -> skip };
  /* ringAttach, R:164-184 -> claimRole, W:161-172 */
claim_role:
  cur = PPID;                                                                         /* W:163 */
  d_step { dead = cur != 0 && !alive[cur] };                                          /* W:165 */
  if
  :: cur != 0 && !dead -> cur = 0; goto leave                                          /* W:166 ROLE_BUSY */
  :: else
  fi;
#ifdef BROKEN_ROLE_STORE
  PPID = me;
#else
  atomic { if :: PPID == cur -> PPID = me :: else -> dead = false; cur = 0; goto claim_role fi }; /* W:167 */
#endif
  d_step { takenOver = dead; dead = false; cur = 0 };
  t = TAIL;                                                                           /* R:174 */
  CLAIM_END = t; t = 0;
  h = HEAD;                                                                           /* R:175 */
  HCACHE = h; h = 0;
  if
  :: takenOver -> PSLEEP = 0                                                          /* R:176 */
  :: else
  fi;
  takenOver = false;

produce:
  do
  :: k < ITER -> k++; v = 8 * me + k;
    /* ringClaimWait -> block (W:105-148) over ringClaimStep (P:101-124) */
    checkPeer = false; registered = false;
step:
    if
    :: registered -> PSLEEP--; registered = false                                     /* P:103 */
    :: else
    fi;
    inflight[me] = false;
    /* ringClaim, P:66-72 -> claimOne, P:24-58 */
    OWNER_CHECK;                                                                      /* P:70 NOT_OWNER */
    MAYBE_DIE;
    pos = CLAIM_END;                                                                  /* P:28 */
    h = HCACHE;                                                                       /* P:36 */
    if
    :: pos - h >= CAP ->                                                              /* P:37 */
      h = HEAD;                                                                       /* P:40 */
      HCACHE = h;                                                                     /* P:41 */
      if
      :: pos - h >= CAP ->                                                            /* P:43-46 FULL */
        /* P:113-116: checkPeer looks at the consumer, which does not die here */
        checkPeer = false;
        PSLEEP++; registered = true;                                                  /* P:118 */
        MAYBE_DIE;
        h = 0; pos = 0;
        goto look
      :: else
      fi
    :: else
    fi;
    goto room;
look:
    skip;
    /* P:119, the look after registering */
    OWNER_CHECK;
    pos = CLAIM_END;
    h = HCACHE;
    if
    :: pos - h >= CAP ->
      h = HEAD;
      HCACHE = h;
      if
      :: pos - h >= CAP ->
        d_step { pexp[me] = h; h = 0; pos = 0 };
        futex_wait(HEAD, pexp[me]);                                                   /* W:145 */
        d_step { checkPeer = res == WAIT_TIMED_OUT; res = 0 };
        goto step
      :: else
      fi
    :: else
    fi;
    PSLEEP--; registered = false;                                                     /* P:120 */
room:
    HDR[pos % CAP] = IN_PROGRESS | v;                                                 /* P:55 */
    MAYBE_DIE;
    d_step { CLAIM_END = pos + 1; mine[pos] = v; h = 0 };                             /* P:56 */
    MAYBE_DIE;
    D[pos % CAP] = v;                       /* the caller fills the payload in place */
    MAYBE_DIE;

    /* ringCommit, P:155-186 */
    OWNER_CHECK;                                                                      /* P:159 */
    t = TAIL;                                                                         /* P:160 */
    e = CLAIM_END;                                                                    /* P:161 */
    q = t;
    do                                                                                /* P:164-179 */
    :: q < e ->
      w = HDR[q % CAP] & VALUE;                                                       /* P:167 */
      HDR[q % CAP] = w;                                                               /* P:173 */
      MAYBE_DIE;
      q++
    :: else -> break
    od;
    skip;
    d_step {                                                                          /* P:182 */
      TAIL = e;
      do
      :: t < e -> cv[t] = mine[t]; t++
      :: else -> break
      od;
      pendC++; q = 0; w = 0; t = 0
    };
    MAYBE_DIE;
    atomic {                                                                          /* P:184 */
      if
      :: CSLEEP != 0 -> wake_consumer()
      :: else
      fi;
      pendC--; e = 0; pos = 0; v = 0
    }
  :: else -> break
  od;
  /* ringDetach, R:187-195 (ringAbort's store: nothing is claimed here) */
  skip;
  OWNER_CHECK;                                                                        /* R:190 */
  t = TAIL;
  CLAIM_END = t; t = 0;
  /* releaseRole, W:175-179 (the record store is left out) */
  atomic { if :: PPID == me -> PPID = 0 :: else fi };                                 /* W:178 */
  goto leave;
lost:
  assert(deaths > 0);                      /* NOT_OWNER only when someone took the role as dead */
leave:
  gone++;
  goto done;
died:
  skip;
  d_step {
    gone++;
    k = 0; v = 0; pos = 0; h = 0; t = 0; e = 0; q = 0; w = 0; cur = 0; res = 0;
    dead = false; takenOver = false; registered = false; checkPeer = false;
    inflight[me] = false
  };
done:
  skip
}

proctype Consumer() {
  byte me = CONSUMER;
  byte pos, t, w, d, p, res, k;
  bool registered, checkPeer, last, got;

  do
  :: true ->
    checkPeer = false; registered = false;
step:
    /* ringReadWait -> block over ringReadStep, C:95-111 */
    if
    :: registered -> CSLEEP--; registered = false                                      /* C:97 */
    :: else
    fi;
    d_step { inflight[me] = false; last = gone == PRODUCERS };  /* ghost: nothing more will come */
    /* ringRead -> readOne, C:17-56 */
read:
    pos = READ_END;                                                                   /* C:18 */
    t = TCACHE;                                                                       /* C:20 */
    if
    :: pos == t ->
      t = TAIL;                                                                       /* C:24 */
      TCACHE = t;                                                                     /* C:25 */
      if
      :: pos == t -> goto is_empty                                                       /* C:26-29 EMPTY */
      :: else
      fi
    :: else
    fi;
    w = HDR[pos % CAP];                                                               /* C:35 */
    assert((w & IN_PROGRESS) == 0);                                                   /* C:38 CORRUPT */
    READ_END = pos + 1;                                                               /* C:48 */
    if
    :: registered -> CSLEEP--; registered = false                                      /* C:107 */
    :: else
    fi;
    d = D[pos % CAP];                       /* the caller reads the payload in place */
    d_step {
      assert(d == w && w == cv[pos] && w != 0);   /* not torn; the record published there */
      w = 0; d = 0; t = 0
    };
    /* ringRelease, C:128-141 */
    t = READ_END;                                                                     /* C:133 */
    d_step { HEAD = t; pendP++; t = 0 };                                              /* C:138 */
    atomic {                                                                          /* C:139 */
      if
      :: PSLEEP != 0 -> futex_wake_body(1)
      :: else
      fi;
      pendP--; pos = 0; k = 0
    };
    goto next;

is_empty:
    if
    :: last -> goto finished
    :: else
    fi;
    if
    :: checkPeer ->                         /* C:100-103 -> roleDead(clear), W:187-194 */
      checkPeer = false;
      p = PPID;                                                                       /* W:188 */
      d_step { if :: p == 0 || alive[p] -> p = 0 :: else fi };                        /* W:189 */
      if
      :: p != 0 ->
#ifdef BROKEN_CLEAR_STORE
        PPID = 0;
#else
        atomic { if :: PPID == p -> PPID = 0 :: else -> p = 0 fi };                   /* W:191 */
#endif
        if
        :: p != 0 -> d_step { peerDied++; assert(peerDied <= deaths); p = 0 }; goto next /* PEER_DIED */
        :: else
        fi
      :: else
      fi
    :: else
    fi;
    if
    :: !registered ->
      CSLEEP++; registered = true;                                                    /* C:105 */
      goto read                                                                       /* C:106 */
    :: else
    fi;
    d_step { cexp = t; pos = 0 };
    if
    :: futex_wait(TAIL, cexp)                                                         /* W:145 */
    :: PPID != 0 && !alive[PPID] -> res = WAIT_TIMED_OUT
      /* the slice runs out at any moment while the producer role is held by a dead process (ghost
         knowledge that only steers the schedule; otherwise it runs out once nothing else can move) */
    fi;
    d_step { checkPeer = res == WAIT_TIMED_OUT; res = 0; t = 0 };
    goto step;
next:
    skip
  od;
finished:
  skip;
  d_step {
    if :: registered -> CSLEEP-- :: else fi;
    assert(READ_END == TAIL);
    pos = 0; t = 0; registered = false; last = false
  }
}

active proctype monitor() {
end:
  do
#ifndef NO_WAKE_INVARIANT
  :: d_step { queued[CONSUMER] && TAIL != cexp && pendC == 0 -> assert(false) }
  :: d_step { (queued[1] && HEAD != pexp[1] || queued[2] && HEAD != pexp[2] || queued[3] && HEAD != pexp[3]) &&
              pendP == 0 -> assert(false) }
#endif
  :: false
  od
}

init {
  atomic {
    alive[1] = true; alive[2] = true; alive[3] = true; alive[4] = true;
    PPID = 1;
    run Consumer();
    run Producer(1); run Producer(2);
#if PRODUCERS > 2
    run Producer(3)
#endif
    skip
  }
}
