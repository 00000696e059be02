// SPDX-License-Identifier: MIT
#pragma once

// Private: the relayer's side of an outbox - claims, the write-back of results, leases, relayer registration
// and take-over. Storage (installed) is the operator's side; an application relays through Relayer, which runs
// this store, so it is not part of the public API. Only our own outbox has one (SqlRelayStore, on the same
// SqlConnection as its SqlStorage): a foreign format is not relayed from here and implements none of it.

#include "storage.h"

#include <QSet>

namespace outbox::detail {

// The result of one delivery, as the relayer writes it back.
struct DeliveryRecord
{
    qint64 sequence = 0;
    EventStatus newStatus = EventStatus::Pending;
    Attempt::Outcome outcome = Attempt::Outcome::Sent;
    QDateTime attemptedAt;
    QDateTime nextAttemptAt; // for a retry
    int httpStatus = 0;
    QString error;
    qint64 durationMs = 0;
    // False for an attempt the event is not charged for: its target was unavailable (the relayer's circuit
    // breaker), which is not the event's fault. The attempt is still in the history.
    bool counted = true;
};

class RelayStore
{
public:
    virtual ~RelayStore() = default;

    // From now on, claim() takes only events whose type matches one of `include` (glob patterns: '*' any run,
    // '?' one character; empty: every type) and none of `exclude`: the lane of one route.
    virtual void setClaimTypes(const QStringList &include, const QStringList &exclude) = 0;
    // Leases up to `limit` due events to `owner` for leaseMs (the heads of their ordering keys only) and returns
    // them with their data, oldest first.
    virtual Result<QList<OutboxEvent>> claim(const QString &owner, int limit, qint64 leaseMs) = 0;
    // Writes the results of events this owner still leases; `written` gets the sequences it wrote (a lease
    // that passed to another relayer is left alone, its attempt not recorded).
    virtual Error complete(
        const QString &owner, const QList<DeliveryRecord> &records, QSet<qint64> *written = nullptr) = 0;
    // Gives back this owner's leases of these events (or all of them) unsent: they are due again at once.
    virtual Error release(const QString &owner, const QList<qint64> &sequences) = 0;
    virtual Error releaseAll(const QString &owner) = 0;
    // Crash recovery. A relayer registers while it runs (SessionLocks: and holds a session lock, so the
    // server tells whether its session lives), renews the leases of the events in its hands in one statement
    // per round, and releases at once the leases of a registered relayer found gone.
    virtual Error registerRelayer(const QString &owner, qint64 leaseMs) = 0;
    virtual Error unregisterRelayer(const QString &owner) = 0;
    // Records what this registered relayer finds of its target (available, or unavailable since …).
    virtual Error setTargetState(const QString &owner, const TargetState &state) = 0;
    // Extends the leases this owner still holds among `sequences` to leaseMs from now; how many it extended.
    virtual Result<int> renewLeases(const QString &owner, const QList<qint64> &sequences, qint64 leaseMs) = 0;
    // Releases the leases of a relayer found gone and forgets it. SessionLocks: only if its lock can be taken
    // now (else it came back: -1). The released events are due at once. Returns how many were released.
    virtual Result<int> takeOver(const RelayerInfo &gone) = 0;
    // ServerUptime: how long the server has been up (after a restart, relayers get time to reconnect).
    virtual Result<qint64> serverUptimeMs() = 0;
    // ChangeCounter: changes each time another connection commits; a cheap way to notice new work (0 without).
    virtual Result<qint64> changeCounter() = 0;
    // When the next pending event falls due (null when none is pending).
    virtual Result<QDateTime> nextDueAt() = 0;

    // Statements executed on this store's connection so far (the benchmark's statements-per-batch figure).
    virtual qint64 statementCount() const = 0;

protected:
    RelayStore() = default;
};

// The relayer's side of this storage's outbox, on the same connection; null where the outbox is not relayed
// from here (a foreign format: Storage::relayRefusal() says why). Valid as long as the storage.
RelayStore *relayStoreOf(Storage &storage);
// The same, or the error that says why the outbox is not relayed from here (Error::Unsupported).
Result<RelayStore *> requireRelayStore(Storage &storage);

} // namespace outbox::detail
