// SPDX-License-Identifier: MIT
#pragma once

#include "outbox_export.h"

#include "connectionspec.h"
#include "error.h"
#include "outboxevent.h"

#include <QDateTime>
#include <QHash>
#include <QSqlDatabase>
#include <QSet>
#include <QStringList>

#include <functional>
#include <memory>
#include <optional>

namespace outbox {

/// What the console and `outboxctl list` filter on. Every field is optional; all are applied in the database.
struct EventFilter
{
    std::optional<EventStatus> status;
    QString id; ///< exact: the event id a log line or a support ticket gives
    /// What an operator pastes: an event id or the start of one, a subject, or an ordering key (exactly).
    /// Only the id is indexed: the rest is a scan, streamed in the requested order.
    QString find;
    QString type; ///< exact
    QString source; ///< exact
    QString orderingKey; ///< exact
    QString errorContains; ///< substring of the last error
    QDateTime createdFrom; ///< inclusive
    QDateTime createdTo; ///< exclusive
    QByteArray payloadContains; ///< bytes the payload must contain (a bounded search: see sequence range)
    qint64 sequenceAbove = 0; ///< when > 0: only rows with a greater sequence
    qint64 sequenceAtMost = 0; ///< when > 0: only rows with this sequence or a smaller one
    QString formatStatus; ///< a foreign outbox: exactly this status of its own ("processing"); ours has none
};

/// The orders the console's table offers; ties are broken by sequence, in the same direction.
enum class SortColumn { Sequence, Type, Source, Subject, OrderingKey, Status, Attempts, HttpStatus };
/// An order of the events: a column and a direction.
struct SortOrder
{
    SortColumn column = SortColumn::Sequence;
    bool descending = true;
};

/// Keyset paging over the sequence column: never an OFFSET scan.
struct PageRequest
{
    /// The direction of a page.
    enum class Order { Ascending, Descending };
    Order order = Order::Ascending;
    qint64 afterSequence = 0; ///< ascending: rows with a greater sequence; descending: a smaller one (0: from the end)
    int limit = 100;
    bool includeData = true; ///< false: leave the payload out (tables that show only attributes)
};

/// What an outbox holds, by status and by what its pending events wait for (Storage::stats()).
struct OutboxStats
{
    qint64 pending = 0; ///< includes those in flight
    qint64 inFlight = 0;
    qint64 failed = 0;
    qint64 sent = 0;
    QDateTime oldestPendingCreatedAt; ///< null when nothing is pending
    /// The pending events not in flight, by what they wait for: ready (due now, a relayer would take them),
    /// retrying (backing off after a failed attempt until their next one), parked (behind an earlier unsent
    /// event of their ordering key). ready + retrying + parked + inFlight = pending.
    qint64 ready = 0;
    qint64 retrying = 0;
    qint64 parked = 0;
    QDateTime oldestReadyCreatedAt; ///< the oldest ready event's creation (null: none is ready)
    QDateTime oldestReadySince; ///< when it became due: its creation, or later when retried or backed off
    QStringList blockedKeys; ///< ordering keys held back by a failed event (the first 1,000 in order)
    qint64 blockedKeyCount = 0; ///< how many there are in all
    /// A foreign outbox (see Storage::formatName): the rows per status as the format names them, in the
    /// format's order, and the rows its own relayer marked as being sent ("processing"), with the oldest one's
    /// creation time (the format records no time of the claim).
    QList<QPair<QString, qint64>> byFormatStatus;
    qint64 processing = 0;
    QDateTime oldestProcessingCreatedAt;
};

/// A relayer's view of its target: available, or unavailable since a time (refused, timing out, 502/503/504,
/// 429) with its events held and one probe at a growing interval.
struct TargetState
{
    QString target; ///< the target's URL, without credentials
    QDateTime unavailableSince; ///< null while the target answers
    QDateTime nextProbeAt;
    QString why; ///< the last error that said so
    /// Whether the target answers.
    bool isAvailable() const { return !unavailableSince.isValid(); }
};

/// A relayer (one lane of one relayer process) as the outbox knows it: registered in outbox_relayers while it
/// runs, and the leases it holds.
struct RelayerInfo
{
    /// Whether its process still runs, as far as can be told from here (see `state`).
    enum class State { Alive, Gone, Unknown };
    QString owner; ///< the lease owner it writes: `name@host:pid:tag`, and /route for a route's lane
    QString host;
    qint64 pid = 0;
    QString processStart; ///< the process's start token on its host (see processinfo.h)
    QDateTime startedAt; ///< null for an owner that holds leases without being registered
    qint64 leaseMs = 0;
    bool registered = false;
    /// Alive: its process runs (SQLite, same host) or its database session holds its lock (PostgreSQL).
    /// Gone: neither. Unknown: cannot be told from here (another host on SQLite; an unregistered owner).
    State state = State::Unknown;
    qint64 held = 0; ///< pending events it leases (relayers(true) only)
    QDateTime leaseExpiresAt; ///< the latest expiry of those leases
    QDateTime lastRenewal; ///< when that lease was taken or last renewed (registered owners)
    TargetState target; ///< its target, and what it found of it (schema version 7; empty from older relayers)
};
OUTBOX_EXPORT QString relayerStateName(RelayerInfo::State state);
/// "unavailable since 03:12:04 (4 min 2 s): connection refused; next probe in 30 s", for stats and logs.
OUTBOX_EXPORT QString targetStateText(const TargetState &state, const QDateTime &now);

/// How many rows an operator action changed, and how many it skipped (not in a state it applies to, or gone).
struct ActionSummary
{
    int changed = 0;
    int skipped = 0;
    QStringList newIds; ///< replay: the ids of the new events
};

/// Failed events that failed alike: of one type, with one HTTP status and one cause. The cause is the last error
/// with what differs from event to event taken out (see failureCause()), so "timeout after 10012 ms" and
/// "timeout after 10003 ms" are one group.
struct FailureGroup
{
    QString type;
    int httpStatus = 0; ///< 0: none (a network error, or a format without one)
    QString cause;
    QString example; ///< one of the group's errors as it was written (its first 200 characters at least)
    qint64 count = 0;
    QDateTime firstSeen; ///< the earliest and the latest failure among them (their last attempts)
    QDateTime lastSeen;
};
/// The cause a failure is grouped by: the first 200 characters of the error text, with UUIDs, long hexadecimal
/// runs and numbers replaced by '#' and whitespace runs made one space.
OUTBOX_EXPORT QString failureCause(const QString &error);
/// Deliveries in one stretch of time (Storage::deliveryHistory): events sent, and events that failed for good.
struct DeliveryBucket
{
    QDateTime start; ///< UTC, a multiple of the bucket's length since the epoch
    qint64 sent = 0;
    qint64 failed = 0;
};

/// What a database holds, found by a read-only look before anything is written (Storage::probe).
struct ProbeResult
{
    /// What was found.
    enum class Kind {
        Missing, ///< SQLite: no file there
        Empty, ///< a database without tables (or only tables of other programs, see `tables`)
        Outbox, ///< this engine's outbox, at schemaVersion
        Foreign, ///< an outbox of a known foreign layout (`format` names it); not opened yet
        Other, ///< a table outbox_events of an unknown layout (`columns`), or not a database at all
    };
    Kind kind = Kind::Empty;
    int schemaVersion = 0; ///< Outbox
    QString format; ///< Foreign: e.g. "romancy/edda outbox_events"
    QStringList tables; ///< the tables found
    QStringList columns; ///< Foreign and Other: the columns of outbox_events
};

class StoragePrivate;

/// The outbox tables on one database connection, owned by one thread: the operator's store (list, find,
/// retry, replay, delete, failure groups, statistics, the relayers), its schema (migrate(), schemaVersion())
/// and the enqueue statements an application runs in its own transaction (insertEvent(), beginWrite(),
/// wakeOnCommit()). The relayer's side (claims, leases, the write-back) is the engine's own and runs through
/// Relayer. Every SQL statement lives behind these. One implementation serves every database: the SQL is kept
/// in resource files per database (with a common fallback), and what differs beyond the text is done by one
/// dialect object per database, chosen once at open(). A foreign outbox (romancy/edda) implements the same
/// interface as far as its format allows. Callers ask for capabilities (has()), never for the database's name.
class OUTBOX_EXPORT Storage
{
public:
    /// MustExist and MustBeOutbox: the database must exist and already hold this engine's outbox; anything
    /// else is refused after a read-only look, before anything is written (no tables, no WAL switch).
    /// CreateIfMissing creates the outbox, in a new file or beside what the database holds (outboxctl init).
    /// AnyOutbox: as MustExist, and a known foreign layout (see ProbeResult::Kind::Foreign) is opened as it is,
    /// for monitoring and repair: nothing is ever created or altered in its database but the rows an
    /// operator's action changes.
    /// ReadOnly: as AnyOutbox, but opening writes nothing: no schema upgrade (this engine's outbox at an older
    /// schema version is refused, saying so), no WAL switch (the console's read-only mode).
    enum class OpenMode { CreateIfMissing, MustExist, MustBeOutbox, AnyOutbox, ReadOnly };

    /// What a database can do, for callers that adapt to it.
    enum class Capability {
        LocalFile, ///< a file on this host (SQLite): it can be replaced under us; relayer processes can be checked
        ServerConnection, ///< a server reached over a connection that can be lost: reconnecting is worth it
        Notify, ///< enqueues wake relayers in other processes (PostgreSQL LISTEN/NOTIFY)
        ChangeCounter, ///< a cheap counter tells that another connection committed (SQLite data_version)
        SessionLocks, ///< a relayer's liveness is told by a lock its database session holds
        ServerUptime, ///< the server tells how long it has been up (relayers give it time after a restart)
        /// What the outbox's format offers (this engine's own: all but ReleaseStuck).
        Relay, ///< a Relayer can relay this outbox (ours; a foreign format: see relayRefusal())
        AttemptHistory, ///< attempts() answers from a history of delivery attempts
        SequenceWindows, ///< sequences rise with insertion, so a filter's sequence range bounds a scan cheaply
        ReleaseStuck, ///< releaseStuck() puts rows a crashed foreign relayer left "processing" back to pending
        Enqueue, ///< insertEvent/sendEventTransactional may write events into this outbox (ours)
    };
    static constexpr Capability kLastCapability = Capability::Enqueue;

    /// Opens the outbox; an unknown Qt SQL driver is an error (never taken for another database).
    static Result<std::unique_ptr<Storage>> open(const ConnectionSpec &spec, OpenMode mode = OpenMode::CreateIfMissing);
    /// What the database at spec holds, by reading only: nothing is created or changed (no file, no WAL switch).
    static Result<ProbeResult> probe(const ConnectionSpec &spec);
    virtual ~Storage();
    Storage(const Storage &) = delete;
    Storage &operator=(const Storage &) = delete;

    /// Creates or migrates the schema on any connection (the engine's own or an application's).
    static Error migrate(QSqlDatabase &db);
    /// The schema version this engine creates and migrates to.
    static int schemaVersion();

    /// Inserts one event on the given connection, inside whatever transaction the caller has open.
    static Error insertEvent(QSqlDatabase &db, const OutboxEvent &event);
    /// Begins a transaction that will write, on any connection. On SQLite it takes the write lock at once
    /// (BEGIN IMMEDIATE), waiting out the busy timeout if another writer holds it: a plain BEGIN followed by a
    /// read and then a write can be refused with "database is locked" when others write meanwhile. End it
    /// with db.commit() or db.rollback().
    static Error beginWrite(QSqlDatabase &db);
    /// After an enqueue on this connection: wake this process's relayers when the event becomes visible
    /// (SQLite: at once outside a transaction, else when this transaction commits; not on later commits).
    static void wakeOnCommit(const QSqlDatabase &db);

    /// The connection it works on (owned by the thread that opened it).
    virtual QSqlDatabase database() const = 0;
    /// Where the outbox is, as it was opened.
    virtual const ConnectionSpec &spec() const = 0;
    /// Whether the database and the outbox's format offer this.
    virtual bool has(Capability capability) const = 0;
    /// Empty for this engine's outbox; else the foreign layout it is (ProbeResult::format).
    virtual QString formatName() const = 0;
    /// Why the relayer side cannot run here (empty when has(Relay)): shown instead of relaying.
    virtual QString relayRefusal() const = 0;
    /// LocalFile: whether the file at the path is no longer the one this storage opened (deleted, or replaced
    /// by another file); always false otherwise.
    virtual bool isFileReplaced() const = 0;
    /// For a relayer that lost its server: is the connection alive, and open it again.
    ///@{
    virtual bool ping() = 0;
    virtual Error reconnect() = 0;
    ///@}

    // The operator's side (the relayer's is private: a relayer runs through Relayer).

    /// The registered relayers and whether each is alive; withLeases: also every owner holding leases, and
    /// what each holds (a scan of the pending events: for displays, not for every round).
    virtual Result<QList<RelayerInfo>> relayers(bool withLeases) = 0;
    /// One page of the events that match the filter, by sequence (keyset paging).
    virtual Result<QList<OutboxEvent>> listEvents(const EventFilter &filter, const PageRequest &page) = 0;
    /// How many events match the filter.
    virtual Result<qint64> countEvents(const EventFilter &filter) = 0;
    /// Streams the sequences of the matching rows in the given order, `chunk` at a time, to sink; a sink that
    /// returns false stops the scan. Returns how many sequences were streamed.
    virtual Result<qint64> scanSequences(const EventFilter &filter, SortOrder order, int chunk,
        const std::function<bool(const QList<qint64> &)> &sink) = 0;
    /// The rows with these sequences, in no particular order (gone rows are left out).
    virtual Result<QList<OutboxEvent>> eventsBySequence(const QList<qint64> &sequences, bool includeData) = 0;
    /// The ids of the rows with these sequences (gone rows are left out).
    virtual Result<QStringList> idsBySequence(const QList<qint64> &sequences) = 0;
    /// The highest sequence in the outbox (0 when it is empty).
    virtual Result<qint64> maxSequence() = 0;
    /// The event with this id, with its data (Error::NotFound when there is none).
    virtual Result<OutboxEvent> event(const QString &id) = 0;
    /// The event's delivery attempts and operator entries, oldest first (AttemptHistory; else none).
    virtual Result<QList<Attempt>> attempts(const QString &id) = 0;
    /// Failed events (of those matching filter) grouped by type, HTTP status and cause, the largest group
    /// first. Counted by the database where it can group (this engine's outbox), else row by row.
    virtual Result<QList<FailureGroup>> failureGroups(const EventFilter &filter);
    /// The sequences of the failed events (of those matching filter) that belong to the group, in order.
    Result<QList<qint64>> failureGroupSequences(const FailureGroup &group, const EventFilter &filter);
    /// Who does the operator actions on this connection and from where, as the history records it (retry and
    /// replay add an "operator" entry to each event they change, where the format keeps a history). Defaults
    /// to `user@host (program)`.
    ///@{
    void setActor(const QString &actor);
    QString actor() const;
    ///@}
    /// An attribute valueCounts() counts by.
    enum class Attribute { Type, Source };
    /// The distinct types (or sources) with how many events have each, the commonest first, at most `limit`.
    virtual Result<QList<QPair<QString, qint64>>> valueCounts(Attribute attribute, int limit) = 0;
    /// Adds an operator entry (`what`, by actor()) to the event's history (AttemptHistory; else refused).
    virtual Error addHistoryNote(const QString &id, const QString &what) = 0;
    /// A failed event replaced by a fix (the console's edit & retry, keeping the original): it stays failed, but
    /// its last error becomes "resolved: <note>" (HTTP status cleared), so it groups apart from real failures,
    /// and an operator entry says `note`; the error it failed with stays in its history. False when the event
    /// is not failed (or gone). Our format only (else refused).
    virtual Result<bool> resolveFailed(const QString &id, const QString &note);
    /// What was delivered since `since`, in buckets of bucketSeconds (oldest first, empty ones left out), among
    /// the newest `newestEvents` events (a bounded read by sequence: an event of an older one sent since is not
    /// counted). Our format only; others return none.
    virtual Result<QList<DeliveryBucket>> deliveryHistory(
        const QDateTime &since, int bucketSeconds, qint64 newestEvents);
    /// The newest failure, by when it happened: the event of the newest failed attempt in the history (retried
    /// or final), with that attempt's error and time. A format without attempt history: the newest failed event
    /// by sequence, at its creation. An empty id: no failure.
    struct LatestFailure
    {
        OutboxEvent event; ///< lastError and lastHttpStatus those of the failing attempt
        QDateTime at;
    };
    /// See LatestFailure.
    virtual Result<LatestFailure> latestFailure();
    /// Failed events taken for one delivery elsewhere (the console's "Retry to another URL"): each of these
    /// that is still failed and not leased is leased by `owner` for leaseMs, gets `note` as an operator entry in
    /// its history, and is returned with its data; complete(owner, …) then writes the outcome (sent, or failed
    /// again with the new error). A relayer never claims a failed event, so nothing else sends it meanwhile.
    /// Relay capability only (else refused).
    virtual Result<QList<OutboxEvent>> takeFailed(
        const QString &owner, const QList<qint64> &sequences, qint64 leaseMs, const QString &note);
    /// Failed events back to pending, due now, with their attempts reset (same id); others are skipped.
    virtual Result<ActionSummary> retry(const QStringList &ids) = 0;
    /// retry() of every failed event that matches the filter.
    virtual Result<ActionSummary> retryMatching(const EventFilter &filter) = 0;
    /// Sent or failed events enqueued again as new events (new ids, `replayOf` naming the original).
    virtual Result<ActionSummary> replay(const QStringList &ids) = 0;
    /// Deletes these events and their history (not one a relayer holds in flight).
    virtual Result<ActionSummary> remove(const QStringList &ids) = 0;
    /// Deletes events created before olderThan in these statuses; how many. It deletes in short transactions
    /// (about 10 ms each, at most batchSize rows) and rests after each: briefly while it has the database to
    /// itself, nine times as long as the transaction took while it shares it (on SQLite, another writer held the
    /// lock when it wanted it; on a server, a relayer is alive), so relayers beside it keep their pace.
    virtual Result<int> cleanup(
        const QDateTime &olderThan, const QList<EventStatus> &statuses, int batchSize = 1000) = 0;
    /// ReleaseStuck: rows left "processing" that were created before `createdBefore` go back to pending; how many.
    virtual Result<int> releaseStuck(const QDateTime &createdBefore) = 0;
    /// The counts by status and by what pending events wait for, with the oldest times (see OutboxStats).
    virtual Result<OutboxStats> stats() = 0;

protected:
    Storage();

private:
    std::unique_ptr<StoragePrivate> d;
};

/// A new event id: a UUID version 7 (time-ordered, so ids inserted together sit together in an index).
OUTBOX_EXPORT QString createEventId();

} // namespace outbox

Q_DECLARE_METATYPE(outbox::TargetState)
