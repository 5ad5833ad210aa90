/*
 * wasm/event/event.ts, the sequence-number notifier (an eventcount), with 3
 * processes, used the way ts/event.ts waitUntil() uses it: a condition wait.
 *
 *   SEQ    sequence, the futex word: +1 per notify
 *   S      sleepers: waiters registered as (about to be) asleep
 *   items  the condition's shared state: what producers made and consumers take
 *
 * Every atomic.* of the code is one Promela step; plain loads and stores are
 * their own steps; what a step does besides is local or ghost bookkeeping.
 * Comments give event/event.ts lines (W: base/waiting.ts, block(); and
 * ts/event.ts waitUntil for the loop).
 *
 * A produce is items += 1, then eventNotify with count 1 (or all with
 * NOTIFY_ALL, or either with NOTIFY_MIXED). A consume is waitUntil(take one
 * item), which may give up once its deadline has passed (checked as
 * waitUntil does: the condition first). Every workload can satisfy all its
 * consumes, so a consumer left asleep at the end is a lost wake-up (ghost
 * `credit`: items promised to no consume yet; it ends equal to items):
 *   WORKLOAD=0  mixed: ITER operations each, produce or consume at random; a
 *               consume starts only when credit > 0 (never two sleepers at
 *               once: this checks orders, not crowds)
 *   WORKLOAD=1  hand-off: processes 1 and 2 consume ITER items each; process
 *               3 produces 2 items per round, notifying after each (two
 *               sleepers at once, so notify-one and notify-all differ)
 *
 * Options (spin -D...):
 *   SPURIOUS     futex waits also end spuriously or by their time slice
 *   NOTIFY_ALL / NOTIFY_MIXED  which notify producers use (default: notify one)
 *   BROKEN_WAIT_FRESH_SEQUENCE  deliberately wrong: the consumer waits for a
 *                sequence it reads AFTER checking the condition instead of the
 *                one it read before, so a notify between the check and the
 *                wait is missed (spin must find a lost wake-up)
 *
 *   NO_WAKE_INVARIANT  leave out the monitor's lost-wake-up invariant (to
 *                show that the end-state check alone also catches the bug)
 *
 * Checked: conservation (items == credit at the end), no invalid end state
 * (every consume returns), and no lost wake-up (monitor): while a sleeper is
 * queued on a stale sequence and nothing is on its way to wake it (no
 * producer between changing items and finishing its notify, no woken process
 * yet to re-check the condition), there is nothing for it to take (items ==
 * 0); with NOTIFY_ALL, stronger: no sleeper is ever left on a stale sequence.
 * Not modelled: the sequence wrapping (2^32 notifies between a waiter's read
 * and its sleep would look like none).
 */

#define N 3
#ifndef ITER
#define ITER 2
#endif
#ifndef WORKLOAD
#define WORKLOAD 0
#endif
#ifndef SPINS
#define SPINS 1
#endif

#ifdef NOTIFY_ALL
#define NOTIFY_COUNT N   /* i32.MAX_VALUE in ts/event.ts notifyAll(): every sleeper */
#else
#define NOTIFY_COUNT 1
#endif

#define OK        0
#define TIMED_OUT 1
#define MUST_WAIT 6

byte SEQ;
byte S;
byte items;

bool queued[N + 1];
bool inflight[N + 1];
byte waitSeq[N + 1];  /* the sequence each queued sleeper waits to leave */
short credit;         /* items not yet promised to a started consume */
byte pendingNotify;   /* producers between changing items and their wake decision */
byte finished;

#include "futex.pml"

#define STALE(p) (queued[p] && waitSeq[p] != SEQ)
#define ANY_STALE (STALE(1) || STALE(2) || STALE(3))

/* The consumer's condition: take an item if there is one (st = OK) */
inline try_take() {
  d_step { v = items; st = TIMED_OUT };
  do
  :: atomic {
       v > 0 ->
       old = items;
       if
       :: items == v -> items = v - 1; st = OK
       :: else
       fi;
       if
       :: old == v -> v = 0; old = 0; break
       :: else -> v = old; old = 0
       fi
     }
  :: atomic { v == 0 -> inflight[me] = false; break }   /* looked: nothing to take */
  od
}

proctype P(byte me) {
  byte v, old, st, res, k, n, count, s, seen;
  bool registered, late, again;

  do
  :: n < ITER -> n++;
#if WORKLOAD == 0
    if
    :: atomic { credit > 0 -> credit-- }; goto consume
    :: d_step { credit++ }; goto produce
    fi;
#else
    if
    :: me == N -> d_step { credit++; again = true }; goto produce
    :: else -> d_step { credit-- }; goto consume
    fi;
#endif
consume:
      /* ts/event.ts waitUntil(condition) */
top:
      seen = SEQ;                                                            /* eventSequence, 59 */
      try_take();
      if
      :: st == OK -> goto took
      :: else
      fi;
      /* the deadline may have passed (always, once eventWait timed out) */
      if
      :: goto give_up
      :: !late -> skip
      fi;
#ifdef BROKEN_WAIT_FRESH_SEQUENCE
      seen = SEQ;
#endif
      /* eventWait(seen) 111-116: block (W:105-148); its first step (W:108, no flags) is
         one load. The spin round (W:111-114) only loads the sequence again and steps on a
         change, which would find what this load or the next step's finds (the sequence
         never comes back): left out */
      atomic { if :: SEQ != seen -> st = OK; goto waited :: else fi };      /* 88 */
step:
      /* the park loop (W:134-147): eventWaitStep(seen, STEP_PARK [| STEP_REGISTERED]) 85-99;
         `registered` is STEP_REGISTERED (W:146) */
      if
      :: registered -> d_step { S--; registered = false }                    /* 87 */
      :: else
      fi;
      atomic { if :: SEQ != seen -> st = OK; goto waited :: else fi };      /* 88 */
      d_step { S++ };                                                        /* 90 */
      atomic {
        if
        :: SEQ != seen -> st = OK                                            /* 92 */
        :: else -> st = MUST_WAIT; inflight[me] = false; waitSeq[me] = seen  /* 97-98 */
        fi
      };
      if
      :: st == OK -> d_step { S-- }; goto waited                             /* 93-94 */
      :: else -> st = 0
      fi;
      registered = true;
      /* W:138-142: the deadline may have passed: eventWaitCancel (102-104), TIMED_OUT;
         then 114: OK if the sequence moved meanwhile */
      if
      :: d_step { S--; registered = false };
        atomic { if :: SEQ != seen -> st = OK :: else -> st = TIMED_OUT fi };
        goto waited
      :: skip
      fi;
      futex_wait(SEQ, seen);                                                 /* W:145 */
      d_step { waitSeq[me] = 0; res = 0 };
      goto step;
waited:
      /* waitUntil: after a time-out, the condition once more, then give up */
      if
      :: st == TIMED_OUT -> st = 0; late = true
      :: else -> st = 0
      fi;
      goto top;
give_up:
      skip;
      d_step { credit++; seen = 0; st = 0; late = false };
      goto next;
took:
      skip;
      d_step { inflight[me] = false; seen = 0; st = 0; late = false };
      goto next;
produce:
#ifdef NOTIFY_MIXED
    if
    :: count = 1
    :: count = N
    fi;
#else
    count = NOTIFY_COUNT;
#endif
    d_step { items++; pendingNotify++ };      /* the condition changes, then the notify */
    /* eventNotify(count), 66-76 */
    SEQ++;                                                                   /* 71 */
    atomic { s = S; if :: s == 0 -> pendingNotify-- :: else fi };          /* 74 */
    if
    :: s != 0 -> atomic { futex_wake_body(count); pendingNotify--; k = 0 }   /* 75 */
    :: else
    fi;
    d_step { s = 0; count = 0 };
    if
    :: again -> d_step { again = false; credit++ }; goto produce
    :: else
    fi;
next:
    skip
  :: else -> break
  od;
  finished++
}

active proctype monitor() {
end:
  do
#ifndef NO_WAKE_INVARIANT
  :: d_step { ANY_STALE && pendingNotify == 0 && !ANY_INFLIGHT && items > 0 -> assert(false) }
#ifdef NOTIFY_ALL
  :: d_step { ANY_STALE && pendingNotify == 0 && !ANY_INFLIGHT -> assert(false) }
#endif
#endif
  :: d_step { finished == N && (items != credit || S != 0 || ANY_QUEUED) -> assert(false) }
  od
}

init {
  atomic { run P(1); run P(2); run P(3) }
}
