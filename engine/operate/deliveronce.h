// SPDX-License-Identifier: MIT
#pragma once

// Private: deliver once to another URL. An operator sends failed events once to a URL other than the relay
// target (a fixed receiver, a replacement endpoint): the failed ones among those chosen are leased to a
// one-off owner (so a second console or command does not send them at the same time), sent once each, and
// their results written: each that arrived becomes sent; each other stays failed with the new error. The
// relay target and the retry schedule are not touched. outboxctl's `retry --to` runs the whole operation;
// the console runs the same steps on its storage thread and its own (see EventActions::retryTo).

#include "relaystore.h"
#include "relayerconfig.h"
#include "storage.h"
#include "transport.h"

namespace outbox {

struct DeliverOnceTally
{
    int taken = 0; ///< the failed events leased and sent
    int arrived = 0; ///< became sent
    int failedAgain = 0; ///< stayed failed, with the new error
    int skipped = 0; ///< not failed, gone, held by another owner, or never sent (the lease ran out first)
    QString firstError; ///< the first new error
};

// The lease owner of a one-off delivery from this process: `who` (e.g. "console-retry-to"), host, pid and a
// random tag, so that no relayer or other delivery shares it.
QString deliverOnceOwner(const QString &who);
// How long the events stay leased: twice the request timeout and a minute.
qint64 deliverOnceLeaseMs(const RelayerConfig &config);
// The results to write for what the transport answered: an arrival is sent; anything else failed with its
// error (a manual send is tried once, never scheduled again); an event never sent is not written, only
// counted as skipped in `tally`.
QList<detail::DeliveryRecord> deliverOnceRecords(
    const QList<Transport::Outcome> &outcomes, const QDateTime &now, DeliverOnceTally &tally);

// The whole operation, blocking until every answer is in and the results are written (runs a local event
// loop on the calling thread, which must own `storage`). An error when the events could not be taken, the
// configuration is wrong, or the results could not be written (they stay failed then).
Result<DeliverOnceTally> deliverOnce(Storage &storage, const QList<qint64> &sequences, const RelayerConfig &config,
    const QString &owner, const QString &note);

} // namespace outbox
