// SPDX-License-Identifier: MIT
#pragma once

#include "outbox_export.h"

#include "connectionspec.h"
#include "error.h"
#include "relayerconfig.h"
#include "storage.h"

#include <QDateTime>
#include <QObject>

#include <functional>
#include <memory>

namespace outbox {

class RelayerPrivate;

/// What one relayOnce() did: how many events it processed (sent, retried or failed), and any error.
struct RelayOnceResult
{
    int processed = 0;
    Error error;
    qint64 statements = 0; ///< SQL statements the batch took (claim and write-back)
};

/// Delivers committed outbox events, on a thread of its own with a database connection of its own. Several
/// relayers (threads or processes) can share one outbox: rows are leased, so none is sent twice while a lease
/// lives, and rows of a relayer that died are claimed again when the lease expires.
class OUTBOX_EXPORT Relayer : public QObject
{
    Q_OBJECT
public:
    /// A relayer of the outbox at spec; it opens its connection when it first runs (start(), relayOnce()).
    Relayer(const ConnectionSpec &spec, const RelayerConfig &config, QObject *parent = nullptr);
    /// Opens a connection of its own to the same database as db.
    Relayer(const QSqlDatabase &db, const RelayerConfig &config, QObject *parent = nullptr);
    ~Relayer() override;

    /// Starts relaying in the background.
    Error start();
    /// Stops taking new work, waits for requests in flight (at most the request timeout), writes their results,
    /// and gives back the leases of events it had not started.
    void stop();
    /// The same without waiting: `done` runs on this object's thread once the relayer has stopped.
    void stopAsync(const std::function<void()> &done);
    /// Between start() and stop() (or while drainAsync() runs).
    bool isRunning() const;

    /// Processes one batch and waits for it.
    RelayOnceResult relayOnce();
    /// The same without waiting: `done` runs on this object's thread when the batch is finished.
    void relayOnceAsync(const std::function<void(const RelayOnceResult &)> &done);
    /// Relays as a running relayer does (the next batch claimed while one is in flight, every connection
    /// busy) until nothing is due, then stops; `done` runs on this object's thread with how many events were
    /// processed and the database error that ended it early, if any. stop() ends it too.
    void drainAsync(const std::function<void(const RelayOnceResult &)> &done);
    /// Removes events older than the age (by creation time) in the given states; returns how many. It runs on a
    /// connection of its own on the calling thread, while the relayer goes on, and paces itself beside the
    /// relayers' writes (see Storage::cleanup), so it can take a while.
    Result<int> cleanupOldEvents(qint64 ageMs, const QList<EventStatus> &statuses = {EventStatus::Sent});

    /// The configuration it was made with.
    const RelayerConfig &config() const;
    /// The lease owner it writes into the outbox: `name@host:pid:tag` (a route's lane adds /route).
    QString owner() const;

public Q_SLOTS:
    /// Look for due events now (connect an application's own "committed" signal here).
    void wake();

Q_SIGNALS:
    /// An event was delivered (the target answered 2xx) and is now `sent`.
    void eventSent(const QString &id, int httpStatus, qint64 durationMs);
    /// An attempt failed in a way worth retrying; the event is pending again until nextAttemptAt.
    void eventRetryScheduled(const QString &id, int httpStatus, const QString &error, const QDateTime &nextAttemptAt);
    /// An event failed for good (a 4xx, an invalid event, or its attempts spent) and is now `failed`.
    void eventFailed(const QString &id, int httpStatus, const QString &error);
    /// A batch was finished: how many events it processed.
    void batchFinished(int processed);
    /// Something kept it from relaying (the database, a lost file), in one line; it keeps trying.
    void errorOccurred(const QString &message);
    /// Each event outcome again, by route ("default" without routes), for per-route figures.
    void routeOutcome(const QString &route, outbox::Attempt::Outcome outcome, qint64 durationMs);
    /// A route's target ("default" without routes) became unavailable (its events are held, one probe at a
    /// growing interval, no attempt charged) or available again; also at each failed probe.
    void targetStateChanged(const QString &route, const outbox::TargetState &state);

protected:
    /// Counts the per-event signals' receivers: without any, the relayer does not emit them at all.
    ///@{
    void connectNotify(const QMetaMethod &signal) override;
    void disconnectNotify(const QMetaMethod &signal) override;
    ///@}

private:
    friend class RelayerPrivate;
    std::unique_ptr<RelayerPrivate> d;
};

} // namespace outbox
