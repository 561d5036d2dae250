// Gives a migrated user of one database a known password, in a throw-away container of Meeshy's
// gateway image (ops/smoke_user.py runs it: `node -` on stdin), so the hash is the gateway's own
// bcrypt's, as it stores passwords, and the database is reached through the image's Prisma Client.
// The user: an active one with a string username, an active participant (type "user", allowed
// to post) in a conversation that has at least one message, the first in the participants' id
// order (the same database chooses the same user). Raw commands, not the Prisma models: the
// choice reads the stored fields whatever the image's schema calls them, and Prisma never
// refuses a document here (the smoke check is what finds those).
//   env: DATABASE_URL (with the database), MEESHY_PRISMA_CLIENT (the generated client's
//   directory), MEESHY_SMOKE_PASSWORD (never printed, never an argument), MEESHY_SMOKE_BATCH
//   (optional: participants read per page, default 500)
// stdout, last line: {"username", "userId", "conversationId"}; exit 1 with one line on stderr
// when no user fits or the database refuses.
"use strict";

const env = process.env;
const { PrismaClient } = require(env.MEESHY_PRISMA_CLIENT || "@prisma/client");
const bcrypt = require("bcrypt");
const BATCH = Number(env.MEESHY_SMOKE_BATCH || 500);

const prisma = new PrismaClient({ datasources: { db: { url: env.DATABASE_URL } } });
const raw = (command) => prisma.$runCommandRaw(command);
const oid = (value) => (value && value.$oid) || String(value);

// Pages by _id (no server cursor to keep open between pages): BATCH participants at a time.
async function* participants() {
  let after = null;
  for (;;) {
    const filter = { type: "user", isActive: true, ...(after ? { _id: { $gt: after } } : {}) };
    const reply = await raw({ find: "Participant", filter, sort: { _id: 1 }, limit: BATCH,
                              batchSize: BATCH });
    const page = reply.cursor.firstBatch;
    yield* page;
    if (page.length < BATCH) return;
    after = page[page.length - 1]._id;
  }
}

async function one(collection, filter) {
  const reply = await raw({ find: collection, filter, limit: 1, batchSize: 1 });
  return reply.cursor.firstBatch[0];
}

async function chosen() {
  for await (const participant of participants()) {
    if (!participant.userId || (participant.permissions || {}).canSendMessages === false) continue;
    const user = await one("User", { _id: participant.userId, isActive: true,
                                     username: { $type: "string" } });
    if (user && await one("Message", { conversationId: participant.conversationId })) {
      return { user, participant };
    }
  }
  return null;
}

async function main() {
  if (!env.MEESHY_SMOKE_PASSWORD) throw new Error("MEESHY_SMOKE_PASSWORD is not set");
  const found = await chosen();
  if (!found) throw new Error("no active user takes part in a conversation with messages");
  const hash = await bcrypt.hash(env.MEESHY_SMOKE_PASSWORD, 10);
  const done = await raw({ update: "User", updates: [
    { q: { _id: found.user._id }, u: { $set: { password: hash } } }] });
  if (done.n !== 1) throw new Error(`the user's password was not set (matched ${done.n})`);
  console.log(JSON.stringify({ username: found.user.username, userId: oid(found.user._id),
                               conversationId: oid(found.participant.conversationId) }));
}

main()
  .catch((error) => {
    // Its last line only: a Prisma error may quote the command (the hash, never the password).
    console.error(String(error && error.message || error).split("\n").filter(Boolean).pop());
    process.exitCode = 1;
  })
  .finally(() => prisma.$disconnect());
