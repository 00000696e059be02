// SPDX-License-Identifier: MIT
#pragma once

#include "connectionspec.h"
#include "error.h"
#include "outboxevent.h"

#include <QDateTime>
#include <QSqlDatabase>
#include <QSet>
#include <QStringList>

#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>

class QSqlQuery;
struct sqlite3;
struct sqlite3_stmt;

namespace outbox {

// What the console and `outboxctl list` filter on. Every field is optional; all are applied in the database.
struct EventFilter
{
    std::optional<EventStatus> status;
    QString id; // exact: the event id a log line or a support ticket gives
    QString type; // exact
    QString source; // exact
    QString orderingKey; // exact
    QString errorContains; // substring of the last error
    QDateTime createdFrom; // inclusive
    QDateTime createdTo; // exclusive
    QByteArray payloadContains; // bytes the payload must contain (a bounded search: see sequence range)
    qint64 sequenceAbove = 0; // when > 0: only rows with a greater sequence
    qint64 sequenceAtMost = 0; // when > 0: only rows with this sequence or a smaller one
};

// The orders the console's table offers; ties are broken by sequence, in the same direction.
enum class SortColumn { Sequence, Type, Source, Subject, OrderingKey, Status, Attempts, HttpStatus };
struct SortOrder
{
    SortColumn column = SortColumn::Sequence;
    bool descending = true;
};

// Keyset paging over the sequence column: never an OFFSET scan.
struct PageRequest
{
    enum class Order { Ascending, Descending };
    Order order = Order::Ascending;
    qint64 afterSequence = 0; // ascending: rows with a greater sequence; descending: a smaller one (0: from the end)
    int limit = 100;
    bool includeData = true; // false: leave the payload out (tables that show only attributes)
};

struct OutboxStats
{
    qint64 pending = 0; // includes those in flight
    qint64 inFlight = 0;
    qint64 failed = 0;
    qint64 sent = 0;
    QDateTime oldestPendingCreatedAt; // null when nothing is pending
    QStringList blockedKeys; // ordering keys held back by a failed event (the first 1,000 in order)
    qint64 blockedKeyCount = 0; // how many there are in all
};

// A relayer (one lane of one relayer process) as the outbox knows it: registered in outbox_relayers while it
// runs, and the leases it holds.
struct RelayerInfo
{
    enum class State { Alive, Gone, Unknown };
    QString owner; // the lease owner it writes: name@host:pid:tag, and /route for a route's lane
    QString host;
    qint64 pid = 0;
    QString processStart; // the process's start token on its host (see processinfo.h)
    qint64 lockKey = 0; // PostgreSQL: the key of the session advisory lock it holds while it runs
    QDateTime startedAt; // null for an owner that holds leases without being registered
    qint64 leaseMs = 0;
    bool registered = false;
    // Alive: its process runs (SQLite, same host) or its database session holds its lock (PostgreSQL).
    // Gone: neither. Unknown: cannot be told from here (another host on SQLite; an unregistered owner).
    State state = State::Unknown;
    qint64 held = 0; // pending events it leases (relayers(true) only)
    QDateTime leaseExpiresAt; // the latest expiry of those leases
    QDateTime lastRenewal; // when that lease was taken or last renewed (registered owners)
};
QString relayerStateName(RelayerInfo::State state);

// How many rows an operator action changed, and how many it skipped (not in a state it applies to, or gone).
struct ActionSummary
{
    int changed = 0;
    int skipped = 0;
    QStringList newIds; // replay: the ids of the new events
};

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
};

// The outbox tables on one database connection, owned by one thread. The relayer, the console and outboxctl
// reach the outbox only through this class, so every SQL statement lives here.
class Storage
{
public:
    // MustExist and MustBeOutbox: the database must exist and already hold this engine's outbox; anything
    // else is refused after a read-only look, before anything is written (no tables, no WAL switch).
    // CreateIfMissing creates the outbox, in a new file or beside what the database holds (outboxctl init).
    enum class OpenMode { CreateIfMissing, MustExist, MustBeOutbox };

    static Result<std::unique_ptr<Storage>> open(const ConnectionSpec &spec, OpenMode mode = OpenMode::CreateIfMissing);
    ~Storage();
    Storage(const Storage &) = delete;
    Storage &operator=(const Storage &) = delete;

    // Creates or migrates the schema on any connection (the engine's own or an application's).
    static Error migrate(QSqlDatabase &db);
    static int schemaVersion();

    // Inserts one event on the given connection, inside whatever transaction the caller has open.
    static Error insertEvent(QSqlDatabase &db, const OutboxEvent &event);
    // Begins a transaction that will write, on any connection. On SQLite it takes the write lock at once
    // (BEGIN IMMEDIATE), waiting out the busy timeout if another writer holds it: a plain BEGIN followed by a
    // read and then a write can be refused with "database is locked" when others write meanwhile. End it
    // with db.commit() or db.rollback().
    static Error beginWrite(QSqlDatabase &db);
    // Whether migrate() has already run on this connection for its current database.
    static bool isSchemaChecked(const QSqlDatabase &db);
    static void setSchemaChecked(const QSqlDatabase &db);
    // SQLite: raise WakeEvent when the transaction open on this connection commits (not on later commits).
    static void wakeOnCommit(const QSqlDatabase &db);

    QSqlDatabase database() const;
    const ConnectionSpec &spec() const { return m_spec; }
    bool isPostgres() const { return m_pg; }
    // SQLite: whether the file at the path is no longer the one this storage opened (deleted, or replaced by
    // another file); always false on PostgreSQL.
    bool isFileReplaced() const;
    // For a relayer that lost its server: is the connection alive, and open it again.
    bool ping();
    Error reconnect();
    // The PostgreSQL channel an enqueue NOTIFYs inside the caller's transaction.
    static QString notificationChannel();

    // Relayer side.
    // From now on, claim() takes only events whose type matches one of `include` (glob patterns: '*' any run,
    // '?' one character; empty: every type) and none of `exclude`: the lane of one route.
    void setClaimTypes(const QStringList &include, const QStringList &exclude);
    Result<QList<OutboxEvent>> claim(const QString &owner, int limit, qint64 leaseMs);
    // Writes the results of events this owner still leases; `written` gets the sequences it wrote (a lease
    // that passed to another relayer is left alone, its attempt not recorded).
    Error complete(const QString &owner, const QList<DeliveryRecord> &records, QSet<qint64> *written = nullptr);
    Error release(const QString &owner, const QList<qint64> &sequences);
    Error releaseAll(const QString &owner);
    // Crash recovery. A relayer registers while it runs (PostgreSQL: and holds a session advisory lock, so the
    // server tells whether its session lives), renews the leases of the events in its hands in one statement
    // per round, and releases at once the leases of a registered relayer found gone.
    Error registerRelayer(const QString &owner, qint64 leaseMs);
    Error unregisterRelayer(const QString &owner);
    // Extends the leases this owner still holds among `sequences` to leaseMs from now; how many it extended.
    Result<int> renewLeases(const QString &owner, const QList<qint64> &sequences, qint64 leaseMs);
    // The registered relayers and whether each is alive; withLeases: also every owner holding leases, and
    // what each holds (a scan of the pending events: for displays, not for every round).
    Result<QList<RelayerInfo>> relayers(bool withLeases);
    // Releases the leases of a relayer found gone and forgets it. PostgreSQL: only if its lock can be taken
    // now (else it came back: -1). The released events are due at once. Returns how many were released.
    Result<int> takeOver(const RelayerInfo &gone);
    // PostgreSQL: how long the server has been up (after a restart, relayers get time to reconnect).
    Result<qint64> serverUptimeMs();
    // Changes each time another connection commits (SQLite's data_version): a cheap way to notice new work.
    Result<qint64> changeCounter();
    // When the next pending event falls due (null when none is pending).
    Result<QDateTime> nextDueAt();

    // Operator side.
    Result<QList<OutboxEvent>> listEvents(const EventFilter &filter, const PageRequest &page);
    Result<qint64> countEvents(const EventFilter &filter);
    // Streams the sequences of the matching rows in the given order, `chunk` at a time, to sink; a sink that
    // returns false stops the scan. Returns how many sequences were streamed.
    Result<qint64> scanSequences(
        const EventFilter &filter, SortOrder order, int chunk, const std::function<bool(const QList<qint64> &)> &sink);
    // The rows with these sequences, in no particular order (gone rows are left out).
    Result<QList<OutboxEvent>> eventsBySequence(const QList<qint64> &sequences, bool includeData);
    // The ids of the rows with these sequences (gone rows are left out).
    Result<QStringList> idsBySequence(const QList<qint64> &sequences);
    Result<qint64> maxSequence();
    Result<OutboxEvent> event(const QString &id);
    Result<QList<Attempt>> attempts(const QString &id);
    Result<ActionSummary> retry(const QStringList &ids);
    Result<ActionSummary> retryMatching(const EventFilter &filter); // failed events that match
    Result<ActionSummary> replay(const QStringList &ids);
    Result<ActionSummary> remove(const QStringList &ids);
    Result<int> cleanup(const QDateTime &olderThan, const QList<EventStatus> &statuses, int batchSize = 1000);
    Result<OutboxStats> stats();

    // Statements executed on this connection so far (for the benchmark's statements-per-batch figure).
    qint64 statementCount() const { return m_statements; }

private:
    Storage(const ConnectionSpec &spec, const QString &connectionName);
    class Query;
    friend class Query;
    QString idListSql() const;
    Error inWriteTransaction(const QString &what, const std::function<Error()> &work);
    Result<QList<OutboxEvent>> claimSqlite(const QString &sql, const QString &owner, int limit, qint64 leaseMs);
    QString claimTypeCondition() const;
    QStringList m_claimInclude, m_claimExclude; // glob patterns (see setClaimTypes)
    QByteArray m_fileIdentity; // SQLite: device and inode of the file opened
    qint64 m_lockKey = 0; // PostgreSQL: this session's relayer lock (0: none)

    ConnectionSpec m_spec;
    QString m_connectionName;
    bool m_pg = false;
    qint64 m_statements = 0;
    // The relayer's statements, prepared once per connection (preparing the claim cost as much as running it
    // for a small batch).
    std::unordered_map<QString, std::unique_ptr<QSqlQuery>> m_prepared;
    // The SQLite claim, on the connection's own handle (finalised before the connection closes).
    struct KeptStatement
    {
        sqlite3 *handle = nullptr;
        sqlite3_stmt *statement = nullptr;
        void reset();
    } m_claim;
};

// A new event id: a UUID version 7 (time-ordered, so ids inserted together sit together in an index).
QString createEventId();

} // namespace outbox
