/*
 * wasm/blackboard/{layout,read,write}.ts: the blackboard's versioned read
 * (a per-buffer seqlock at one generation), its write batches of two keys
 * committed by one generation store, the roll-back of a dead writer's
 * staged buffers, and the write claim with takeover from a dead holder.
 *
 *   G            the committed generation (GENERATION)
 *   S[k*2+b]     the stamp of buffer b of key k (VOID: none)
 *   D[(k*2+b)*2+i]  cell i of that buffer's value: a value is two cells, so
 *                a copy that mixes two writes (torn) has cells that differ
 *   CLAIM        the write claim's holder pid (the robust mutex, whose own
 *                protocol is mutex.pml: here it is a word taken by CAS from
 *                0 or from a dead holder's pid, and waited on while live)
 *
 * Writers 1..WRITERS each commit ITER batches; each batch writes both keys
 * with the value v = 4 * pid + batch number (never 0), so a snapshot whose
 * keys differ saw half a batch. Up to MAXDEATHS writers die, anywhere from
 * their claim to their release; a dead writer's claim is taken over. The
 * reader makes READS snapshots of both keys: one generation g, per key the
 * current buffer at g (the committed one, stamp <= g, with the larger
 * stamp), copy, then re-check every stamp; a moved stamp or no committed
 * buffer means look again from a fresh g.
 *
 * Every atomic.* of the code and every plain load or store is one step
 * (sequentially consistent: the code's fences make its plain accesses
 * ordered as written). Comments name the code (R: read.ts, W: write.ts).
 *
 * Checked (assertions): a snapshot is never torn (both cells of each copy
 * alike), both keys come from one batch (a == b), and that batch is the
 * one committed at the generation read (committed[g], ghost), so a value a
 * dead writer staged is never seen; at most one writer holds the claim.
 * No invalid end state (nobody waits forever on a dead holder).
 *
 * Options (spin -D...):
 *   WRITERS=n     2 (default) or 3        ITER=n    batches per writer (1)
 *   MAXDEATHS=n   writer deaths (1)       READS=n   reader snapshots (2)
 *   BROKEN_NO_VERIFY    the reader does not re-check the stamps after its
 *                 copy: spin finds a torn or mixed snapshot
 *   BROKEN_PUBLISH_FIRST  the writer stores the generation before it writes
 *                 the values: spin finds a snapshot of a half-written value
 *   BROKEN_CLAIM_STORE  a dead holder's claim is taken by a plain store
 *                 after the liveness check instead of CAS: spin finds two
 *                 holders (needs WRITERS=3)
 */

#define VOID 255
#ifndef WRITERS
#define WRITERS 2
#endif
#ifndef ITER
#define ITER 1
#endif
#ifndef MAXDEATHS
#define MAXDEATHS 1
#endif
#ifndef READS
#define READS 2
#endif
#define MAXGEN 8

byte G;
byte S[4];
byte D[8];
byte CLAIM;
bool alive[WRITERS + 1];
byte deaths;
byte holders;            /* ghost: writers inside their batch */
byte committed[MAXGEN];  /* ghost: the value of the batch committed at each generation (0: the start) */
byte finished;           /* ghost: writers done or dead */

#define MAYBE_DIE \
  if \
  :: d_step { deaths < MAXDEATHS; alive[me] = false; deaths++; if :: inb -> holders-- :: else -> skip fi }; \
     goto died \
  :: skip \
  fi

#define ONE_BATCH_STAMPS(g) ((S[0] <= g || S[1] <= g) && (S[2] <= g || S[3] <= g))

proctype writer(byte me) {
  byte batch, iter, c, g, k, s0, s1, cur, target, v;
  bool inb;  /* ghost: inside a batch (counted in holders) */
  alive[me] = true;
  for (iter : 1 .. ITER) {
    /* W: blackboardClaim -> mutexLock over the claim, takeover after a slice */
claim:
    c = CLAIM;
    if
    :: c == 0 ->
       atomic { if :: CLAIM == 0 -> CLAIM = me :: else -> goto claim fi }
    :: c != 0 && !alive[c] ->
#ifdef BROKEN_CLAIM_STORE
       CLAIM = me;
#else
       atomic { if :: CLAIM == c -> CLAIM = me :: else -> goto claim fi }
#endif
    :: c != 0 && alive[c] ->
       /* parked on the word until it changes or the holder dies (then a slice runs out) */
       atomic { CLAIM != c || !alive[c] -> skip };
       goto claim
    fi;
    skip;
    d_step { holders++; inb = true; assert(holders <= 1) };
    MAYBE_DIE;
    /* W: claimed -> rollBack: void every stamp above the generation */
    g = G;
    for (k : 0 .. 3) {
      s0 = S[k];
      if :: s0 != VOID && s0 > g -> S[k] = VOID :: else -> skip fi;
      MAYBE_DIE
    }
    batch = g + 1;
    v = 4 * me + iter;
    /* W: blackboardStage per key, then the host writes the value */
    for (k : 0 .. 1) {
      g = G;
      s0 = S[2 * k];
      s1 = S[2 * k + 1];
      if
      :: s1 <= g && (s0 > g || s1 > s0) -> cur = 1
      :: else -> assert(s0 <= g); cur = 0
      fi;
      target = 2 * k + 1 - cur;
      if
      :: S[target] != batch ->
         S[target] = batch;            /* W: restamp, then fullFence */
         MAYBE_DIE
      :: else -> skip
      fi;
#ifdef BROKEN_PUBLISH_FIRST
      if :: k == 0 -> d_step { G = batch; committed[batch] = v } :: else -> skip fi;
#endif
      D[2 * target] = v;
      MAYBE_DIE;
      D[2 * target + 1] = v;
      MAYBE_DIE
    }
    /* W: blackboardCommit: the release store of the generation */
    skip;
#ifndef BROKEN_PUBLISH_FIRST
    d_step { G = batch; committed[batch] = v };
#endif
    MAYBE_DIE;
    skip;
    d_step { holders--; inb = false; CLAIM = 0 }
  };
  finished++;
  goto end;
died:
  /* a dead writer's batch is over (its claim stays until taken over) */
  finished++;
end:
  skip
}

proctype reader() {
  byte n, g, k, s0, s1, w[2], st[2], c[4];
  for (n : 1 .. READS) {
look:
    g = G;                                            /* R: blackboardGeneration (acquire) */
    for (k : 0 .. 1) {
      s0 = S[2 * k];                                  /* R: currentBuffer */
      s1 = S[2 * k + 1];
      if
      :: s1 <= g && (s0 > g || s1 > s0) -> w[k] = 1; st[k] = s1
      :: s0 <= g && !(s1 <= g && s1 > s0) -> w[k] = 0; st[k] = s0
      :: else -> goto look                            /* -MUST_WAIT: a fresh g */
      fi;
      c[2 * k] = D[2 * (2 * k + w[k])];               /* the host's copy */
      c[2 * k + 1] = D[2 * (2 * k + w[k]) + 1]
    }
#ifndef BROKEN_NO_VERIFY
    for (k : 0 .. 1) {                                /* R: blackboardVerify (fullFence, then the stamp) */
      if :: S[2 * k + w[k]] != st[k] -> goto look :: else -> skip fi
    }
#endif
    assert(c[0] == c[1] && c[2] == c[3]);             /* not torn */
    assert(c[0] == c[2]);                             /* one batch */
    assert(g < MAXGEN && c[0] == committed[g])        /* the batch committed at g */
  }
}

init {
  byte i;
  S[1] = VOID;
  S[3] = VOID;
  atomic {
    for (i : 1 .. WRITERS) { run writer(i) }
    run reader()
  }
}
