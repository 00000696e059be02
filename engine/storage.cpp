// SPDX-License-Identifier: MIT
#include "storage.h"

#include "cloudevents.h"
#include "processinfo.h"
#include "sqlitehandle.h"
#include "wakeevent.h"

#include <QAtomicInteger>
#include <QCoreApplication>
#include <QHostInfo>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QRandomGenerator>
#include <QSet>
#include <QSqlDriver>
#include <QSqlError>
#include <QSqlQuery>
#include <QSqlRecord>
#include <QUuid>

#include <algorithm>

#include <sys/stat.h>

Q_LOGGING_CATEGORY(lcStorage, "outbox.storage", QtCriticalMsg)

namespace outbox {

namespace {

const char *const kEventColumns =
    "seq, id, type, source, subject, content_type, data, extensions, ordering_key, status, attempts, "
    "next_attempt_at, lease_owner, lease_expires_at, last_error, last_http_status, created_at, sent_at, replay_of";
const char *const kEventColumnsWithoutData =
    "seq, id, type, source, subject, content_type, NULL, extensions, ordering_key, status, attempts, "
    "next_attempt_at, lease_owner, lease_expires_at, last_error, last_http_status, created_at, sent_at, replay_of";

// Schema migrations, in order; each entry brings the schema to version index+1. Two processes opening an
// outbox at once do not both migrate it: PostgreSQL takes an advisory lock, SQLite the write lock, and each
// reads the version again under it. SQLite keeps times as Unix milliseconds,
// PostgreSQL as TIMESTAMPTZ; both to the millisecond, in UTC.
// The indexes of version 1, the same on both backends.
const QStringList &version1Indexes()
{
    static const QStringList list = {
        // The relayer's claim: due pending rows in due order. A leased row's next_attempt_at is its lease
        // expiry, so in-flight rows are simply not due and an expired lease makes the row due again.
        QStringLiteral("CREATE INDEX IF NOT EXISTS outbox_events_due ON outbox_events(next_attempt_at, seq) WHERE "
                       "status = 'pending'"),
        // Per-key ordering: the unsent events of a key, in order.
        QStringLiteral("CREATE INDEX IF NOT EXISTS outbox_events_key ON outbox_events(ordering_key, seq) "
                       "WHERE ordering_key IS NOT NULL AND status <> 'sent'"),
        // The console's status tabs and filters, paged by sequence.
        QStringLiteral("CREATE INDEX IF NOT EXISTS outbox_events_status ON outbox_events(status, seq)"),
        QStringLiteral("CREATE INDEX IF NOT EXISTS outbox_events_type ON outbox_events(type, seq)"),
        QStringLiteral("CREATE INDEX IF NOT EXISTS outbox_events_created ON outbox_events(created_at)"),
        QStringLiteral("CREATE INDEX IF NOT EXISTS outbox_attempts_event ON outbox_attempts(event_seq)"),
    };
    return list;
}

// SQLite, schema version 2: after `event` on a row of an ordering key (`row`: NEW or OLD) that meets `when`,
// make the key's head due if it is parked.
QString unparkTrigger(const QString &name, const QString &event, const QString &row, const QString &when)
{
    return QStringLiteral(
        "CREATE TRIGGER IF NOT EXISTS %1 AFTER %2 ON outbox_events WHEN %3.ordering_key IS NOT NULL AND %4 BEGIN"
        " UPDATE outbox_events SET next_attempt_at = CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"
        " WHERE seq = (SELECT MIN(seq) FROM outbox_events WHERE ordering_key IS NOT NULL AND ordering_key = "
        "%3.ordering_key"
        " AND status <> 'sent') AND status = 'pending' AND next_attempt_at = 253402214400000; END")
        .arg(name, event, row, when);
}

// A migration step that is not SQL: SQLite's schema cookie is raised by one, so every connection reloads a
// table definition edited in sqlite_schema.
const char *const kBumpSchemaVersion = "bump schema_version";

const QList<QStringList> &migrations(bool pg)
{
    static const QList<QStringList> sqlite = {
        QStringList{
            QStringLiteral("CREATE TABLE IF NOT EXISTS outbox_events ("
                           " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
                           " id TEXT NOT NULL UNIQUE,"
                           " type TEXT NOT NULL,"
                           " source TEXT NOT NULL,"
                           " subject TEXT,"
                           " content_type TEXT,"
                           " data BLOB NOT NULL DEFAULT x'',"
                           " extensions TEXT,"
                           " ordering_key TEXT,"
                           " status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','failed','sent')),"
                           " attempts INTEGER NOT NULL DEFAULT 0,"
                           " next_attempt_at INTEGER NOT NULL,"
                           " lease_owner TEXT,"
                           " lease_expires_at INTEGER,"
                           " last_error TEXT,"
                           " last_http_status INTEGER,"
                           " created_at INTEGER NOT NULL,"
                           " sent_at INTEGER,"
                           " replay_of TEXT)"),
            QStringLiteral("CREATE TABLE IF NOT EXISTS outbox_attempts ("
                           " id INTEGER PRIMARY KEY,"
                           " event_seq INTEGER NOT NULL,"
                           " attempted_at INTEGER NOT NULL,"
                           " outcome TEXT NOT NULL,"
                           " http_status INTEGER,"
                           " error TEXT,"
                           " duration_ms INTEGER NOT NULL DEFAULT 0,"
                           " relayer TEXT)"),
        } + version1Indexes(),
        // Version 2: an event that waits behind an earlier unsent event of its ordering key is "parked" (due at
        // kParkedMs) instead of due, so claims never walk past a backlog of blocked events; when its key's head
        // is sent or deleted, the next event of the key is made due. Triggers do it, so every writer (the
        // engine, the console, outboxctl, an application's own SQL) keeps the rule. The claim still checks
        // the head itself, so rows written before version 2 stay correct.
        QStringList{
            QStringLiteral("UPDATE outbox_events SET next_attempt_at = 253402214400000 WHERE status = 'pending' AND "
                           "lease_owner IS NULL"
                           " AND ordering_key IS NOT NULL AND EXISTS (SELECT 1 FROM outbox_events p WHERE "
                           "p.ordering_key IS NOT NULL"
                           " AND p.ordering_key = outbox_events.ordering_key AND p.status <> 'sent' AND p.seq < "
                           "outbox_events.seq)"),
            QStringLiteral("CREATE TRIGGER IF NOT EXISTS outbox_events_park AFTER INSERT ON outbox_events"
                           " WHEN NEW.ordering_key IS NOT NULL AND NEW.status = 'pending' BEGIN"
                           " UPDATE outbox_events SET next_attempt_at = 253402214400000 WHERE seq = NEW.seq AND EXISTS "
                           "(SELECT 1 FROM"
                           " outbox_events p WHERE p.ordering_key IS NOT NULL AND p.ordering_key = NEW.ordering_key "
                           "AND p.status <> 'sent'"
                           " AND p.seq < NEW.seq); END"),
            unparkTrigger(QStringLiteral("outbox_events_unpark_sent"), QStringLiteral("UPDATE OF status"),
                QStringLiteral("NEW"), QStringLiteral("NEW.status = 'sent' AND OLD.status <> 'sent'")),
            unparkTrigger(QStringLiteral("outbox_events_unpark_deleted"), QStringLiteral("DELETE"),
                QStringLiteral("OLD"), QStringLiteral("OLD.status <> 'sent'")),
        },
        // Version 3: the successful attempt is kept on the event row (its duration and relayer beside sent_at
        // and last_http_status) instead of a row of its own in outbox_attempts; Storage::attempts() shows it.
        // Only attempts that did not deliver get rows, which took a quarter of the relayer's database work.
        QStringList{
            QStringLiteral("ALTER TABLE outbox_events ADD COLUMN last_duration_ms INTEGER"),
            QStringLiteral("ALTER TABLE outbox_events ADD COLUMN last_relayer TEXT"),
        },
        // Version 4: the status check as three comparisons. SQLite evaluates `status IN (three values)` in a
        // CHECK by building a temporary b-tree for every row written, which cost as much as the rest of an
        // enqueue. The constraint means the same, so the table's definition is edited in place, by the
        // procedure SQLite documents for changing a CHECK constraint (ALTER TABLE cannot); no row is rewritten.
        QStringList{
            QStringLiteral("PRAGMA writable_schema = ON"),
            QStringLiteral(
                "UPDATE sqlite_schema SET sql = replace(sql, \"CHECK (status IN ('pending','failed','sent'))\","
                " \"CHECK (status = 'pending' OR status = 'failed' OR status = 'sent')\")"
                " WHERE type = 'table' AND name = 'outbox_events'"),
            QLatin1String(kBumpSchemaVersion),
            QStringLiteral("PRAGMA writable_schema = OFF"),
        },
        // Version 5: the relayers that run, so a dead one's leases are released at once (see registerRelayer).
        QStringList{
            QStringLiteral("CREATE TABLE IF NOT EXISTS outbox_relayers ("
                           " owner TEXT PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL, process_start TEXT,"
                           " lock_key INTEGER, lease_ms INTEGER NOT NULL, started_at INTEGER NOT NULL)"),
        },
    };
    static const QList<QStringList> postgres = {
        QStringList{
            QStringLiteral("CREATE TABLE IF NOT EXISTS outbox_events ("
                           " seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
                           " id TEXT NOT NULL UNIQUE,"
                           " type TEXT NOT NULL,"
                           " source TEXT NOT NULL,"
                           " subject TEXT,"
                           " content_type TEXT,"
                           " data BYTEA NOT NULL DEFAULT ''::bytea,"
                           " extensions JSONB,"
                           " ordering_key TEXT,"
                           " status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','failed','sent')),"
                           " attempts INTEGER NOT NULL DEFAULT 0,"
                           " next_attempt_at TIMESTAMPTZ NOT NULL,"
                           " lease_owner TEXT,"
                           " lease_expires_at TIMESTAMPTZ,"
                           " last_error TEXT,"
                           " last_http_status INTEGER,"
                           " created_at TIMESTAMPTZ NOT NULL,"
                           " sent_at TIMESTAMPTZ,"
                           " replay_of TEXT)"),
            QStringLiteral("CREATE TABLE IF NOT EXISTS outbox_attempts ("
                           " id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
                           " event_seq BIGINT NOT NULL,"
                           " attempted_at TIMESTAMPTZ NOT NULL,"
                           " outcome TEXT NOT NULL,"
                           " http_status INTEGER,"
                           " error TEXT,"
                           " duration_ms BIGINT NOT NULL DEFAULT 0,"
                           " relayer TEXT)"),
        } + version1Indexes(),
        // Version 2 parks blocked events on SQLite only. On PostgreSQL concurrent writers could park an event
        // after its head was sent (and leave it parked) unless every writer took a per-key lock, which can
        // deadlock an application's transaction; there the claim's head check alone keeps the order.
        QStringList{},
        QStringList{
            QStringLiteral("ALTER TABLE outbox_events ADD COLUMN IF NOT EXISTS last_duration_ms BIGINT"),
            QStringLiteral("ALTER TABLE outbox_events ADD COLUMN IF NOT EXISTS last_relayer TEXT"),
        },
        QStringList{}, // version 4 changes SQLite's status check only; PostgreSQL evaluates IN lists cheaply
        QStringList{
            QStringLiteral("CREATE TABLE IF NOT EXISTS outbox_relayers ("
                           " owner TEXT PRIMARY KEY, host TEXT NOT NULL, pid BIGINT NOT NULL, process_start TEXT,"
                           " lock_key BIGINT, lease_ms BIGINT NOT NULL, started_at TIMESTAMPTZ NOT NULL)"),
        },
    };
    return pg ? postgres : sqlite;
}

bool isPostgresConnection(const QSqlDatabase &db)
{
    return db.driverName() == QLatin1String("QPSQL");
}

// The channel PostgreSQL relayers LISTEN on; an enqueue NOTIFYs it inside the caller's transaction.
const char *const kNotifyChannel = "outbox_events";

qint64 toMs(const QDateTime &t)
{
    return t.isValid() ? t.toMSecsSinceEpoch() : 0;
}
// A time read from either backend: Unix milliseconds (SQLite) or a timestamp (PostgreSQL).
QDateTime fromMs(const QVariant &v)
{
    if (v.isNull())
        return QDateTime();
    if (v.metaType().id() == QMetaType::QDateTime)
        return v.toDateTime().toUTC();
    return QDateTime::fromMSecsSinceEpoch(v.toLongLong(), Qt::UTC);
}
// A time to bind: milliseconds for SQLite, a UTC timestamp for PostgreSQL.
QVariant timeParam(bool pg, qint64 ms)
{
    return pg ? QVariant(QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC)) : QVariant(ms);
}
QVariant textOrNull(const QString &s)
{
    return s.isEmpty() ? QVariant(QMetaType(QMetaType::QString)) : QVariant(s);
}
qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

constexpr int kLockTimeoutSeconds = 10; // PostgreSQL: the longest our statements wait for a lock
// PostgreSQL: the first key of every relayer's session advisory lock (the second is its own lock_key).
constexpr int kRelayerLockClass = 0x0B0C;

QString sqlError(const QSqlError &e)
{
    const QString db = e.databaseText().trimmed();
    QString text = db.isEmpty() ? e.text().trimmed() : db;
    if (text.contains(QLatin1String("lock timeout")))
        text +=
            QStringLiteral(" (another session held a lock on the outbox for more than %1 s; pg_stat_activity names it)")
                .arg(kLockTimeoutSeconds);
    return text;
}

Error databaseError(const QString &what, const QSqlError &e)
{
    QString why = sqlError(e);
    if (why.isEmpty())
        why = QStringLiteral("no answer from the database (connection lost?)");
    return Error(Error::Database, QStringLiteral("%1: %2").arg(what, why));
}

QByteArray jsonList(const QStringList &values)
{
    return QJsonDocument(QJsonArray::fromStringList(values)).toJson(QJsonDocument::Compact);
}

QStringList unique(const QStringList &ids)
{
    QStringList out;
    QSet<QString> seen;
    for (const QString &id : ids) {
        if (!seen.contains(id)) {
            seen.insert(id);
            out.append(id);
        }
    }
    return out;
}

OutboxEvent eventFromQuery(const QSqlQuery &q)
{
    OutboxEvent e;
    e.sequence = q.value(0).toLongLong();
    e.id = q.value(1).toString();
    e.type = q.value(2).toString();
    e.source = q.value(3).toString();
    e.subject = q.value(4).toString();
    e.contentType = q.value(5).toString();
    e.data = q.value(6).toByteArray();
    const QByteArray ext = q.value(7).toByteArray();
    if (!ext.isEmpty())
        e.extensions = QJsonDocument::fromJson(ext).object();
    e.orderingKey = q.value(8).toString();
    parseStatus(q.value(9).toString(), &e.status);
    e.attempts = q.value(10).toInt();
    e.nextAttemptAt = fromMs(q.value(11));
    e.leaseOwner = q.value(12).toString();
    e.leaseExpiresAt = fromMs(q.value(13));
    e.lastError = q.value(14).toString();
    e.lastHttpStatus = q.value(15).toInt();
    e.createdAt = fromMs(q.value(16));
    e.sentAt = fromMs(q.value(17));
    e.replayOf = q.value(18).toString();
    return e;
}

QList<OutboxEvent> inSequenceOrder(QList<OutboxEvent> events)
{
    std::sort(events.begin(), events.end(),
        [](const OutboxEvent &a, const OutboxEvent &b) { return a.sequence < b.sequence; });
    return events;
}

// A WHERE clause built from a filter, with its positional values.
struct Where
{
    QStringList terms;
    QVariantList values;

    void add(const QString &term, const QVariant &value)
    {
        terms.append(term);
        values.append(value);
    }
    QString sql() const
    {
        return terms.isEmpty() ? QString() : QStringLiteral(" WHERE ") + terms.join(QStringLiteral(" AND "));
    }
};

Where whereFor(const EventFilter &f, bool pg)
{
    Where w;
    if (f.status)
        w.add(QStringLiteral("status = ?"), statusName(*f.status));
    if (!f.id.isEmpty())
        w.add(QStringLiteral("id = ?"), f.id);
    if (!f.type.isEmpty())
        w.add(QStringLiteral("type = ?"), f.type);
    if (!f.source.isEmpty())
        w.add(QStringLiteral("source = ?"), f.source);
    if (!f.orderingKey.isEmpty())
        w.add(QStringLiteral("ordering_key = ?"), f.orderingKey);
    if (!f.errorContains.isEmpty()) {
        // instr() rather than LIKE: no wildcard characters to escape in what the user typed.
        w.add(pg ? QStringLiteral("strpos(last_error, ?) > 0") : QStringLiteral("instr(last_error, ?) > 0"),
            f.errorContains);
    }
    if (f.createdFrom.isValid())
        w.add(QStringLiteral("created_at >= ?"), timeParam(pg, f.createdFrom.toMSecsSinceEpoch()));
    if (f.createdTo.isValid())
        w.add(QStringLiteral("created_at < ?"), timeParam(pg, f.createdTo.toMSecsSinceEpoch()));
    if (f.sequenceAbove > 0)
        w.add(QStringLiteral("seq > ?"), f.sequenceAbove);
    if (f.sequenceAtMost > 0)
        w.add(QStringLiteral("seq <= ?"), f.sequenceAtMost);
    if (!f.payloadContains.isEmpty()) {
        // Byte-wise on both: a payload need not be valid text.
        w.add(pg ? QStringLiteral("position(CAST(? AS bytea) IN data) > 0")
                 : QStringLiteral("instr(CAST(data AS BLOB), ?) > 0"),
            f.payloadContains);
    }
    return w;
}

QAtomicInteger<quint64> g_connectionCounter;

} // namespace

// A prepared statement on the storage's connection; counts what it executes and words its errors.
class Storage::Query
{
public:
    // Reuse::Kept: on SQLite the statement is prepared once and kept for this connection (for statements run
    // over and over, like the relayer's). On PostgreSQL statements are prepared each time: keeping them stopped
    // an idle relayer from hearing NOTIFY.
    enum class Reuse { Once, Kept };

    Query(Storage *storage, const QString &sql, Reuse reuse = Reuse::Once) : m_storage(storage)
    {
        const QSqlDatabase db = storage->database();
        if (reuse == Reuse::Kept && !storage->m_pg) {
            auto &kept = storage->m_prepared[sql];
            if (!kept) {
                kept = std::make_unique<QSqlQuery>(db);
                kept->setForwardOnly(true);
                if (!db.isOpen() || !kept->prepare(sql)) {
                    m_own.emplace(*kept); // keeps the error to report
                    m_query = &*m_own;
                    storage->m_prepared.erase(sql);
                    return;
                }
            }
            m_query = kept.get();
            m_kept = true;
            m_prepared = true;
            return;
        }
        m_own.emplace(db);
        m_query = &*m_own;
        m_query->setForwardOnly(true);
        // A closed connection (a lost server) is reported by exec(), without Qt's own warning here.
        m_prepared = db.isOpen() && m_query->prepare(sql);
    }
    ~Query()
    {
        if (m_kept)
            m_query->finish(); // resets the statement so it holds no read open
    }
    Query(const Query &) = delete;
    Query &operator=(const Query &) = delete;

    // Values are bound by position, so a kept statement that was bound and then not run starts afresh.
    Query &bind(const QVariant &v)
    {
        m_query->bindValue(m_bound++, v);
        return *this;
    }
    Query &bindAll(const QVariantList &values)
    {
        for (const QVariant &v : values)
            bind(v);
        return *this;
    }
    Error exec(const QString &what)
    {
        if (!m_storage->database().isOpen())
            return Error(Error::Database, QStringLiteral("%1: no connection to the database").arg(what));
        if (!m_prepared)
            return databaseError(what, m_query->lastError());
        ++m_storage->m_statements;
        if (!m_query->exec())
            return databaseError(what, m_query->lastError());
        return {};
    }
    QSqlQuery &q() { return *m_query; }

private:
    Storage *m_storage;
    std::optional<QSqlQuery> m_own;
    QSqlQuery *m_query = nullptr;
    bool m_prepared = false;
    bool m_kept = false;
    int m_bound = 0;
};

namespace {
QByteArray fileIdentity(const QString &path)
{
    struct stat st
    { };
    if (::stat(QFile::encodeName(path).constData(), &st) != 0)
        return {};
    return QByteArray::number(quint64(st.st_dev)) + ':' + QByteArray::number(quint64(st.st_ino));
}
} // namespace

Storage::Storage(const ConnectionSpec &spec, const QString &connectionName)
    : m_spec(spec), m_connectionName(connectionName), m_pg(spec.backend == ConnectionSpec::Backend::Postgresql)
{ }

bool Storage::isFileReplaced() const
{
    return !m_pg && fileIdentity(m_spec.database) != m_fileIdentity;
}

Storage::~Storage()
{
    m_prepared.clear(); // statements go before their connection
    m_claim.reset();
    {
        QSqlDatabase db = QSqlDatabase::database(m_connectionName, false);
        if (db.isOpen())
            db.close();
    }
    QSqlDatabase::removeDatabase(m_connectionName);
}

QSqlDatabase Storage::database() const
{
    return QSqlDatabase::database(m_connectionName, false);
}

namespace {

// Opens the connection and sets up the session; the words of the error say what a user can fix.
// Opens the connection; on SQLite then switches the file to WAL (a write) unless told not to yet.
Error openConnection(QSqlDatabase &db, const ConnectionSpec &spec, bool switchToWal = true)
{
    if (!db.open()) {
        const QString why = sqlError(db.lastError()).section(QLatin1Char('\n'), 0, 0);
        if (spec.backend == ConnectionSpec::Backend::Postgresql)
            return Error(Error::Database, QStringLiteral("cannot connect to %1: %2").arg(spec.displayUrl(), why));
        return Error(Error::Database, QStringLiteral("cannot open '%1': %2").arg(spec.database, why));
    }
    QSqlQuery q(db);
    if (spec.backend == ConnectionSpec::Backend::Postgresql) {
        q.exec(QStringLiteral("SET TIME ZONE 'UTC'"));
        // A lock someone holds on the outbox (a LOCK TABLE, a long DDL) must not hang every command, the
        // relayer's stop and /healthz: our statements give up after a bounded wait and say why. The user's
        // own setting (options=-c lock_timeout=...) wins.
        if (!spec.options.contains(QLatin1String("lock_timeout")))
            q.exec(QStringLiteral("SET lock_timeout = '%1s'").arg(kLockTimeoutSeconds));
        return {};
    }
    if (!switchToWal) {
        // Still find out now whether it is a database at all (a read).
        if (!q.exec(QStringLiteral("SELECT COUNT(*) FROM sqlite_master"))) {
            const QString why = sqlError(q.lastError());
            if (why.contains(QLatin1String("not a database")))
                return Error(
                    Error::InvalidArgument, QStringLiteral("'%1' is not a SQLite database").arg(spec.database));
            return Error(Error::Database, QStringLiteral("cannot open '%1': %2").arg(spec.database, why));
        }
        return {};
    }
    if (!q.exec(QStringLiteral("PRAGMA journal_mode=WAL"))) {
        const QString why = sqlError(q.lastError());
        if (why.contains(QLatin1String("not a database")))
            return Error(Error::InvalidArgument, QStringLiteral("'%1' is not a SQLite database").arg(spec.database));
        return Error(Error::Database, QStringLiteral("cannot open '%1': %2").arg(spec.database, why));
    }
    q.exec(QStringLiteral("PRAGMA synchronous=NORMAL"));
    return {};
}

} // namespace

namespace {
// Empty when the database holds this engine's outbox (its outbox_schema table); otherwise an error naming what
// was found instead. Reads only.
Error probeOutbox(QSqlDatabase &db, const ConnectionSpec &spec)
{
    const bool pg = spec.backend == ConnectionSpec::Backend::Postgresql;
    const QString where = pg ? spec.displayUrl() : spec.database;
    QSqlQuery q(db);
    const QString tablesSql = pg
        ? QStringLiteral(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1")
        : QStringLiteral("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1");
    if (!q.exec(tablesSql))
        return databaseError(QStringLiteral("cannot read '%1'").arg(where), q.lastError());
    QStringList tables;
    while (q.next())
        tables << q.value(0).toString();
    if (tables.contains(QLatin1String("outbox_schema")))
        return {};
    if (tables.contains(QLatin1String("outbox_events"))) {
        QStringList columns;
        QSqlQuery c(db);
        if (c.exec(pg ? QStringLiteral(
                       "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
                       " AND table_name = 'outbox_events' ORDER BY ordinal_position")
                      : QStringLiteral("SELECT name FROM pragma_table_info('outbox_events')"))) {
            while (c.next())
                columns << c.value(0).toString();
        }
        return Error(Error::InvalidArgument,
            QStringLiteral("'%1' has a table outbox_events that is not this engine's outbox (columns: %2); "
                           "refused, nothing was changed")
                .arg(where, columns.join(QStringLiteral(", ")).left(400)));
    }
    const QString found = tables.isEmpty()
        ? QStringLiteral("no tables")
        : QStringLiteral("tables: %1").arg(tables.join(QStringLiteral(", ")).left(300));
    return Error(Error::InvalidArgument,
        QStringLiteral("'%1' is a database but not an outbox (%2); nothing was changed "
                       "(create an outbox with 'outboxctl init')")
            .arg(where, found));
}
} // namespace

Result<std::unique_ptr<Storage>> Storage::open(const ConnectionSpec &spec, OpenMode mode)
{
    if (!QSqlDatabase::isDriverAvailable(spec.driverName()))
        return Error(
            Error::Unsupported, QStringLiteral("the Qt SQL driver %1 is not installed").arg(spec.driverName()));

    const bool pg = spec.backend == ConnectionSpec::Backend::Postgresql;
    if (!pg) {
        const QFileInfo file(spec.database);
        if (mode == OpenMode::MustExist && !file.exists())
            return Error(Error::NotFound,
                QStringLiteral("no outbox at '%1' (create one with 'outboxctl init')").arg(spec.database));
        if (file.exists() && file.isDir())
            return Error(
                Error::InvalidArgument, QStringLiteral("'%1' is a directory, not a database file").arg(spec.database));
        if (mode == OpenMode::MustBeOutbox && !file.exists())
            return Error(Error::NotFound, QStringLiteral("no such file: '%1'").arg(spec.database));
    }

    const QString name = QStringLiteral("outbox-storage-%1").arg(g_connectionCounter.fetchAndAddRelaxed(1));
    std::unique_ptr<Storage> storage(new Storage(spec, name));
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(spec.driverName(), name);
        db.setDatabaseName(spec.database);
        if (pg) {
            db.setHostName(spec.host);
            db.setPort(spec.port);
            db.setUserName(spec.user);
            db.setPassword(spec.password);
            db.setConnectOptions(spec.options.isEmpty() ? QStringLiteral("connect_timeout=5") : spec.options);
        } else {
            // Wait for a busy database rather than failing: relayers, the console and applications share one file.
            db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=10000"));
        }
        if (Error e = openConnection(db, spec, mode == OpenMode::CreateIfMissing))
            return e;
        if (mode != OpenMode::CreateIfMissing) {
            // A read-only look first: a database that does not hold this engine's outbox is refused before
            // anything is written to it (no tables, no WAL switch), and it is left byte for byte as it was.
            if (Error e = probeOutbox(db, spec))
                return e;
            if (!pg) {
                QSqlQuery wal(db);
                wal.exec(QStringLiteral("PRAGMA journal_mode=WAL"));
                wal.exec(QStringLiteral("PRAGMA synchronous=NORMAL"));
            }
        }
        if (Error e = migrate(db))
            return e;
        // An application's enqueue on this connection need not look at the schema again (a read at the start
        // of a write transaction is what makes SQLite refuse the write under contention).
        setSchemaChecked(db);
    }
    if (!pg)
        storage->m_fileIdentity = fileIdentity(spec.database);
    return storage;
}

Error Storage::reconnect()
{
    m_prepared.clear();
    m_claim.reset();
    QSqlDatabase db = database();
    db.close();
    return openConnection(db, m_spec);
}

bool Storage::ping()
{
    Query q(this, QStringLiteral("SELECT 1"));
    return !q.exec(QStringLiteral("ping")).isError();
}

int Storage::schemaVersion()
{
    return int(migrations(false).size());
}

namespace {

Error newerSchemaError(int current)
{
    return Error(Error::Unsupported,
        QStringLiteral("the outbox schema is version %1, newer than this program understands (%2)")
            .arg(current)
            .arg(Storage::schemaVersion()));
}

// Brings the schema from `current` to the latest version with q, inside whatever transaction the caller
// opened; the first failure is returned and the caller rolls back.
Error applyMigrations(QSqlQuery &q, bool pg, int current)
{
    for (int version = current + 1; version <= Storage::schemaVersion(); ++version) {
        for (const QString &sql : migrations(pg).at(version - 1)) {
            bool ok = true;
            if (sql == QLatin1String(kBumpSchemaVersion)) {
                ok = q.exec(QStringLiteral("PRAGMA schema_version")) && q.next();
                const qint64 cookie = ok ? q.value(0).toLongLong() : 0;
                q.finish();
                ok = ok && q.exec(QStringLiteral("PRAGMA schema_version = %1").arg(cookie + 1));
            } else {
                ok = q.exec(sql);
            }
            if (!ok)
                return databaseError(QStringLiteral("outbox schema migration %1 failed").arg(version), q.lastError());
        }
        q.prepare(QStringLiteral("INSERT INTO outbox_schema(version) SELECT CAST(? AS INTEGER)"
                                 " WHERE NOT EXISTS (SELECT 1 FROM outbox_schema WHERE version = CAST(? AS INTEGER))"));
        q.addBindValue(version);
        q.addBindValue(version);
        if (!q.exec())
            return databaseError(QStringLiteral("cannot record outbox schema version %1").arg(version), q.lastError());
    }
    return {};
}

} // namespace

Error Storage::beginWrite(QSqlDatabase &db)
{
    // SQLite: take the write lock at once, so the busy timeout applies instead of a failed upgrade later.
    QSqlQuery q(db);
    if (!q.exec(isPostgresConnection(db) ? QStringLiteral("BEGIN") : QStringLiteral("BEGIN IMMEDIATE")))
        return databaseError(QStringLiteral("cannot begin a transaction"), q.lastError());
    return {};
}

Error Storage::migrate(QSqlDatabase &db)
{
    const bool pg = isPostgresConnection(db);
    QSqlQuery q(db);
    if (pg) {
        // On PostgreSQL a failed statement would abort the caller's transaction, so look before touching.
        if (!q.exec(QStringLiteral("SELECT to_regclass('outbox_schema') IS NOT NULL")) || !q.next())
            return databaseError(QStringLiteral("cannot read the outbox schema"), q.lastError());
        if (q.value(0).toBool()) {
            q.exec(QStringLiteral("SELECT COALESCE(MAX(version), 0) FROM outbox_schema"));
            if (q.next() && q.value(0).toInt() == schemaVersion())
                return {};
        }
        q.finish();
        // Serialise concurrent migrations with an advisory lock held to the end of the transaction.
        if (!db.transaction())
            return databaseError(QStringLiteral("cannot migrate the outbox schema"), db.lastError());
        auto rollback = [&db](const Error &e) {
            db.rollback();
            return e;
        };
        if (!q.exec(QStringLiteral("SELECT pg_advisory_xact_lock(726172)")))
            return rollback(databaseError(QStringLiteral("cannot lock the outbox schema"), q.lastError()));
        if (!q.exec(QStringLiteral("CREATE TABLE IF NOT EXISTS outbox_schema (version INTEGER NOT NULL)")))
            return rollback(databaseError(QStringLiteral("cannot create the outbox schema"), q.lastError()));
        if (!q.exec(QStringLiteral("SELECT COALESCE(MAX(version), 0) FROM outbox_schema")) || !q.next())
            return rollback(databaseError(QStringLiteral("cannot read the outbox schema version"), q.lastError()));
        const int current = q.value(0).toInt();
        if (current > schemaVersion())
            return rollback(newerSchemaError(current));
        if (Error e = applyMigrations(q, true, current))
            return rollback(e);
        if (!db.commit())
            return databaseError(QStringLiteral("cannot commit the outbox schema"), db.lastError());
        return {};
    }

    if (!q.exec(QStringLiteral("CREATE TABLE IF NOT EXISTS outbox_schema (version INTEGER NOT NULL)"))) {
        const QString why = sqlError(q.lastError());
        if (why.contains(QLatin1String("not a database")))
            return Error(
                Error::InvalidArgument, QStringLiteral("'%1' is not a SQLite database").arg(db.databaseName()));
        return Error(Error::Database, QStringLiteral("cannot create the outbox schema: %1").arg(why));
    }
    if (!q.exec(QStringLiteral("SELECT COALESCE(MAX(version), 0) FROM outbox_schema")) || !q.next())
        return databaseError(QStringLiteral("cannot read the outbox schema version"), q.lastError());
    const int current = q.value(0).toInt();
    q.finish();
    if (current > schemaVersion())
        return newerSchemaError(current);
    if (current == schemaVersion())
        return {};

    // A savepoint works both inside a caller's transaction and on its own (where it acts as BEGIN).
    if (!q.exec(QStringLiteral("SAVEPOINT outbox_migrate")))
        return databaseError(QStringLiteral("cannot migrate the outbox schema"), q.lastError());
    auto rollback = [&q](const Error &e) {
        q.exec(QStringLiteral("ROLLBACK TO outbox_migrate"));
        q.exec(QStringLiteral("RELEASE outbox_migrate"));
        q.exec(QStringLiteral("PRAGMA writable_schema = OFF")); // in case version 4 failed half-way
        return e;
    };
    // Take the write lock (a write that changes nothing), then read the version again: another process may
    // have migrated meanwhile, and not every migration can run twice.
    if (!q.exec(QStringLiteral("UPDATE outbox_schema SET version = version WHERE version < 0"))
        || !q.exec(QStringLiteral("SELECT COALESCE(MAX(version), 0) FROM outbox_schema")) || !q.next())
        return rollback(databaseError(QStringLiteral("cannot migrate the outbox schema"), q.lastError()));
    const int locked = q.value(0).toInt();
    q.finish();
    if (locked > schemaVersion())
        return rollback(newerSchemaError(locked));
    if (Error e = applyMigrations(q, false, locked))
        return rollback(e);
    if (!q.exec(QStringLiteral("RELEASE outbox_migrate")))
        return databaseError(QStringLiteral("cannot commit the outbox schema"), q.lastError());
    qCInfo(lcStorage) << "outbox schema migrated from version" << current << "to" << schemaVersion();
    return {};
}

namespace {

// What the engine keeps per application connection: the prepared INSERT (re-preparing it on every
// enqueue cost more than the insert itself) and which database's schema was checked. It is a child of the
// connection's driver, so it goes when the connection goes; the driver finalises the statement on close().
class ConnectionCache : public QObject
{
public:
    static ConnectionCache *of(const QSqlDatabase &db)
    {
        QSqlDriver *driver = db.driver();
        auto *cache = static_cast<ConnectionCache *>(driver->findChild<QObject *>(name(), Qt::FindDirectChildrenOnly));
        if (!cache) {
            cache = new ConnectionCache;
            cache->setObjectName(name());
            cache->setParent(driver);
        }
        return cache;
    }
    static QString name() { return QStringLiteral("outbox-connection-cache"); }

    QString checkedDatabase;
    std::unique_ptr<QSqlQuery> insert;
    void *insertHandle = nullptr; // SQLite: the connection handle the INSERT was prepared on
    // Whether the transaction open now has enqueued an event: only such a commit wakes relayers.
    QAtomicInteger<int> enqueuedInTransaction = 0;
};

int onCommit(void *arg)
{
    auto *cache = static_cast<ConnectionCache *>(arg);
    if (cache->enqueuedInTransaction.fetchAndStoreRelaxed(0))
        WakeEvent::raise();
    return 0; // let the commit proceed
}

void onRollback(void *arg)
{
    static_cast<ConnectionCache *>(arg)->enqueuedInTransaction.storeRelaxed(0);
}

QString insertSql(bool pg)
{
    // PostgreSQL: the NOTIFY rides in the same statement; relayers hear it when (and only if) the caller's
    // transaction commits.
    return pg ? QStringLiteral(
               "WITH inserted AS (INSERT INTO outbox_events (id, type, source, subject, content_type, data, extensions,"
               " ordering_key, status, attempts, next_attempt_at, created_at, replay_of)"
               " VALUES (?, ?, ?, ?, ?, ?, CAST(? AS jsonb), ?, 'pending', 0, ?, ?, ?) RETURNING 1) "
               "SELECT pg_notify('%1', '') FROM inserted")
                    .arg(QLatin1String(kNotifyChannel))
              : QStringLiteral("INSERT INTO outbox_events (id, type, source, subject, content_type, data, extensions, "
                               "ordering_key, status,"
                               " attempts, next_attempt_at, created_at, replay_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
                               "'pending', 0, ?, ?, ?)");
}

} // namespace

void Storage::wakeOnCommit(const QSqlDatabase &db)
{
    sqlite3 *handle = detail::sqliteHandle(db);
    if (!handle)
        return;
    ConnectionCache *cache = ConnectionCache::of(db);
    // Installed on every enqueue (cheap), so a reopened connection's new handle gets them too. The cache
    // outlives the handle (it goes with the driver), so the hooks' argument stays valid while they can fire.
    sqlite3_commit_hook(handle, onCommit, cache);
    sqlite3_rollback_hook(handle, onRollback, cache);
    cache->enqueuedInTransaction.storeRelaxed(1);
}

bool Storage::isSchemaChecked(const QSqlDatabase &db)
{
    return db.driver() && ConnectionCache::of(db)->checkedDatabase == db.databaseName();
}

void Storage::setSchemaChecked(const QSqlDatabase &db)
{
    if (db.driver())
        ConnectionCache::of(db)->checkedDatabase = db.databaseName();
}

Error Storage::insertEvent(QSqlDatabase &db, const OutboxEvent &e)
{
    const bool pg = isPostgresConnection(db);
    ConnectionCache *cache = ConnectionCache::of(db);
    const QVariant created = timeParam(pg, toMs(e.createdAt));
    const QVariant extensions = e.extensions.isEmpty()
        ? QVariant(QMetaType(QMetaType::QString))
        : QVariant(QString::fromUtf8(QJsonDocument(e.extensions).toJson(QJsonDocument::Compact)));
    QString why;
    // SQLite: a statement prepared on an earlier handle (the connection was closed and opened again) is
    // prepared afresh; the INSERT is never retried, because after some errors (SQLITE_FULL, SQLITE_IOERR)
    // SQLite has rolled the caller's whole transaction back and a retry would commit the event on its own.
    sqlite3 *handle = pg ? nullptr : detail::sqliteHandle(db);
    const bool inTransaction = handle && !sqlite3_get_autocommit(handle);
    if (handle && cache->insertHandle != handle) {
        cache->insert.reset();
        cache->insertHandle = handle;
    }
    // PostgreSQL: a cached statement may belong to a connection that was closed and reopened: on failure,
    // prepare afresh once and try again (a real error, such as a duplicate id, fails the same way twice; in a
    // transaction, the first failure aborts it and the second is refused, so nothing commits on its own).
    for (int attempt = 0; attempt < (pg ? 2 : 1); ++attempt) {
        if (!cache->insert || attempt > 0) {
            cache->insert = std::make_unique<QSqlQuery>(db);
            if (!cache->insert->prepare(insertSql(pg))) {
                why = sqlError(cache->insert->lastError());
                cache->insert.reset();
                break;
            }
        }
        QSqlQuery &q = *cache->insert;
        q.bindValue(0, e.id);
        q.bindValue(1, e.type);
        q.bindValue(2, e.source);
        q.bindValue(3, textOrNull(e.subject));
        q.bindValue(4, textOrNull(e.contentType));
        q.bindValue(5, e.data.isNull() ? QByteArray("") : e.data);
        q.bindValue(6, extensions);
        q.bindValue(7, textOrNull(e.orderingKey));
        q.bindValue(8, created);
        q.bindValue(9, created);
        q.bindValue(10, textOrNull(e.replayOf));
        if (q.exec()) {
            q.finish();
            return {};
        }
        why = sqlError(q.lastError());
        q.finish();
    }
    if (inTransaction && sqlite3_get_autocommit(handle))
        return Error(Error::Database,
            QStringLiteral("cannot write the event to the outbox: %1; SQLite rolled the whole transaction back, "
                           "so nothing of it was written (the transaction is gone: roll back and start again)")
                .arg(why));
    if (why.contains(QLatin1String("UNIQUE constraint failed: outbox_events.id"))
        || why.contains(QLatin1String("outbox_events_id_key")))
        return Error(Error::DuplicateId, QStringLiteral("an event with id '%1' is already in the outbox").arg(e.id));
    if (why.isEmpty())
        why = QStringLiteral("no answer from the database (connection lost?)");
    return Error(Error::Database, QStringLiteral("cannot write the event to the outbox: %1").arg(why));
}

QString Storage::notificationChannel()
{
    return QLatin1String(kNotifyChannel);
}

QString Storage::idListSql() const
{
    return m_pg ? QStringLiteral("(SELECT jsonb_array_elements_text(CAST(? AS jsonb)))")
                : QStringLiteral("(SELECT value FROM json_each(?))");
}

void Storage::setClaimTypes(const QStringList &include, const QStringList &exclude)
{
    m_claimInclude = include;
    m_claimExclude = exclude;
    m_claim.reset(); // the SQLite claim is prepared again with the condition
}

namespace {
// A glob as a PostgreSQL LIKE pattern (backslash escapes).
QString globToLike(const QString &glob)
{
    QString out;
    for (QChar c : glob) {
        if (c == QLatin1Char('\\') || c == QLatin1Char('%') || c == QLatin1Char('_'))
            out += QLatin1Char('\\') + QString(c);
        else if (c == QLatin1Char('*'))
            out += QLatin1Char('%');
        else if (c == QLatin1Char('?'))
            out += QLatin1Char('_');
        else
            out += c;
    }
    return out;
}

QString jsonStringList(const QStringList &list)
{
    return QString::fromUtf8(QJsonDocument(QJsonArray::fromStringList(list)).toJson(QJsonDocument::Compact));
}
} // namespace

// The type condition of a route's claims, its patterns inlined as JSON string literals (they come from the
// relayer's configuration, and are quoted like any SQL string).
QString Storage::claimTypeCondition() const
{
    auto literal = [](QString text) {
        return QLatin1Char('\'') + text.replace(QLatin1Char('\''), QStringLiteral("''")) + QLatin1Char('\'');
    };
    auto matches = [&](const QStringList &globs) {
        if (m_pg) {
            QStringList like;
            for (const QString &g : globs)
                like << globToLike(g);
            return QStringLiteral(
                "EXISTS (SELECT 1 FROM json_array_elements_text(CAST(%1 AS json)) AS p(v) WHERE e.type LIKE p.v)")
                .arg(literal(jsonStringList(like)));
        }
        return QStringLiteral("EXISTS (SELECT 1 FROM json_each(%1) WHERE e.type GLOB json_each.value)")
            .arg(literal(jsonStringList(globs)));
    };
    QString condition;
    if (!m_claimInclude.isEmpty())
        condition += QStringLiteral(" AND ") + matches(m_claimInclude);
    if (!m_claimExclude.isEmpty())
        condition += QStringLiteral(" AND NOT ") + matches(m_claimExclude);
    return condition;
}

Result<QList<OutboxEvent>> Storage::claim(const QString &owner, int limit, qint64 leaseMs)
{
    // One statement: pick due rows (the head of each ordering key only) and lease them. On PostgreSQL the
    // rows are locked with SKIP LOCKED, so concurrent relayers take disjoint batches without waiting.
    const QString headOfKey =
        QStringLiteral(" AND (e.ordering_key IS NULL OR NOT EXISTS (SELECT 1 FROM outbox_events p"
                       "  WHERE p.ordering_key = e.ordering_key AND p.status <> 'sent' AND p.seq < e.seq))");
    if (m_pg) {
        // The database's clock decides leases, so relayers on hosts with skewed clocks agree.
        Query q(this,
            QStringLiteral("UPDATE outbox_events SET lease_owner = ?,"
                           " lease_expires_at = clock_timestamp() + CAST(? AS bigint) * interval '1 millisecond',"
                           " next_attempt_at = clock_timestamp() + CAST(? AS bigint) * interval '1 millisecond' "
                           "WHERE seq IN (SELECT e.seq FROM outbox_events e WHERE e.status = 'pending' AND "
                           "e.next_attempt_at <= clock_timestamp()%1"
                           " ORDER BY e.next_attempt_at, e.seq LIMIT ? FOR UPDATE SKIP LOCKED) "
                           "RETURNING %2")
                .arg(headOfKey + claimTypeCondition(), QLatin1String(kEventColumns)));
        q.bind(owner).bind(leaseMs).bind(leaseMs).bind(limit);
        if (Error e = q.exec(QStringLiteral("cannot claim events")))
            return e;
        QList<OutboxEvent> events;
        while (q.q().next())
            events.append(eventFromQuery(q.q()));
        return inSequenceOrder(std::move(events));
    }
    // Built once: claimSqlite only reads it when it prepares the statement.
    static const QString sqliteClaim = QStringLiteral(
        "UPDATE outbox_events SET lease_owner = ?, lease_expires_at = ?, next_attempt_at = ? "
        "WHERE seq IN (SELECT e.seq FROM outbox_events e INDEXED BY outbox_events_due WHERE e.status = 'pending'"
        " AND e.next_attempt_at <= ?%1 ORDER BY e.next_attempt_at, e.seq LIMIT ?) "
        "RETURNING %2")
                                           .arg(headOfKey, QLatin1String(kEventColumns));
    if (m_claimInclude.isEmpty() && m_claimExclude.isEmpty())
        return claimSqlite(sqliteClaim, owner, limit, leaseMs);
    static const QString routedClaim = QStringLiteral(
        "UPDATE outbox_events SET lease_owner = ?, lease_expires_at = ?, next_attempt_at = ? "
        "WHERE seq IN (SELECT e.seq FROM outbox_events e INDEXED BY outbox_events_due WHERE e.status = 'pending'"
        " AND e.next_attempt_at <= ?%1%3 ORDER BY e.next_attempt_at, e.seq LIMIT ?) "
        "RETURNING %2")
                                           .arg(headOfKey, QLatin1String(kEventColumns));
    return claimSqlite(routedClaim.arg(claimTypeCondition()), owner, limit, leaseMs);
}

// SQLite: the claim runs on the connection's own handle, its statement prepared once. Through Qt every cell
// of the returned rows became a QVariant first, which cost more than the UPDATE itself.
Result<QList<OutboxEvent>> Storage::claimSqlite(const QString &sql, const QString &owner, int limit, qint64 leaseMs)
{
    const QString what = QStringLiteral("cannot claim events");
    const QSqlDatabase db = database();
    sqlite3 *handle = db.isOpen() ? detail::sqliteHandle(db) : nullptr;
    if (!handle)
        return Error(Error::Database, QStringLiteral("%1: no connection to the database").arg(what));
    if (m_claim.handle != handle) {
        m_claim.reset();
        if (sqlite3_prepare_v3(
                handle, sql.toUtf8().constData(), -1, SQLITE_PREPARE_PERSISTENT, &m_claim.statement, nullptr)
            != SQLITE_OK) {
            const Error e(
                Error::Database, QStringLiteral("%1: %2").arg(what, QString::fromUtf8(sqlite3_errmsg(handle))));
            m_claim.reset();
            return e;
        }
        m_claim.handle = handle;
    }
    sqlite3_stmt *st = m_claim.statement;
    const qint64 now = nowMs();
    const QByteArray ownerUtf8 = owner.toUtf8();
    sqlite3_bind_text(st, 1, ownerUtf8.constData(), int(ownerUtf8.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, now + leaseMs);
    sqlite3_bind_int64(st, 3, now + leaseMs);
    sqlite3_bind_int64(st, 4, now);
    sqlite3_bind_int(st, 5, limit);
    ++m_statements;

    const auto text = [st](int column) {
        const auto *chars = reinterpret_cast<const char *>(sqlite3_column_text(st, column));
        return chars ? QString::fromUtf8(chars, sqlite3_column_bytes(st, column)) : QString();
    };
    const auto time = [st](int column) {
        return sqlite3_column_type(st, column) == SQLITE_NULL
            ? QDateTime()
            : QDateTime::fromMSecsSinceEpoch(sqlite3_column_int64(st, column), Qt::UTC);
    };
    QList<OutboxEvent> events;
    events.reserve(limit);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        // The columns of kEventColumns, in order.
        OutboxEvent e;
        e.sequence = sqlite3_column_int64(st, 0);
        e.id = text(1);
        e.type = text(2);
        e.source = text(3);
        e.subject = text(4);
        e.contentType = text(5);
        const void *data = sqlite3_column_blob(st, 6);
        e.data = data ? QByteArray(static_cast<const char *>(data), sqlite3_column_bytes(st, 6)) : QByteArray("");
        if (const auto *ext = static_cast<const char *>(sqlite3_column_blob(st, 7));
            ext && sqlite3_column_bytes(st, 7) > 0)
            e.extensions = QJsonDocument::fromJson(QByteArray(ext, sqlite3_column_bytes(st, 7))).object();
        e.orderingKey = text(8);
        parseStatus(text(9), &e.status);
        e.attempts = sqlite3_column_int(st, 10);
        e.nextAttemptAt = time(11);
        e.leaseOwner = text(12);
        e.leaseExpiresAt = time(13);
        e.lastError = text(14);
        e.lastHttpStatus = sqlite3_column_int(st, 15);
        e.createdAt = time(16);
        e.sentAt = time(17);
        e.replayOf = text(18);
        events.append(std::move(e));
    }
    if (rc != SQLITE_DONE) {
        const Error e(Error::Database, QStringLiteral("%1: %2").arg(what, QString::fromUtf8(sqlite3_errmsg(handle))));
        sqlite3_reset(st);
        return e;
    }
    sqlite3_reset(st);
    return inSequenceOrder(std::move(events));
}

void Storage::KeptStatement::reset()
{
    if (statement)
        sqlite3_finalize(statement);
    statement = nullptr;
    handle = nullptr;
}

namespace {
// The results of a batch as one JSON array, written directly (this runs for every batch). PostgreSQL reads
// objects with jsonb_to_recordset; SQLite reads arrays, whose fields it finds by position, at about half
// the cost of looking up names in objects. `deliveredOnly`: SQLite's short form [seq, http status, duration]
// for a batch in which every event was delivered.
QByteArray deliveryJson(const QList<DeliveryRecord> &records, bool objects, bool deliveredOnly)
{
    QByteArray json;
    json.reserve(records.size() * (deliveredOnly ? 24 : 96));
    json.append('[');
    // One field after the first: by name in an object; by position in an array, where a field that is
    // absent is written as null so that the ones after it keep their places.
    auto field = [&json, objects](const char *name, bool present, const QByteArray &value) {
        if (!present && objects)
            return;
        if (objects)
            json.append(",\"").append(name).append("\":");
        else
            json.append(',');
        json.append(present ? value : QByteArrayLiteral("null"));
    };
    auto text = [](const QString &s) { return '"' + s.toLatin1() + '"'; };
    for (const DeliveryRecord &r : records) {
        if (json.size() > 1)
            json.append(',');
        json.append(objects ? "{\"s\":" : "[").append(QByteArray::number(r.sequence));
        if (deliveredOnly) {
            field("h", r.httpStatus > 0, QByteArray::number(r.httpStatus));
            field("d", true, QByteArray::number(r.durationMs));
            json.append(']');
            continue;
        }
        const qint64 attempted = toMs(r.attemptedAt);
        field("t", true, text(statusName(r.newStatus)));
        field("o", true, text(outcomeName(r.outcome)));
        field("w", true, QByteArray::number(attempted));
        field("n", true, QByteArray::number(r.newStatus == EventStatus::Pending ? toMs(r.nextAttemptAt) : attempted));
        field("a", r.newStatus == EventStatus::Sent, QByteArray::number(attempted));
        field("h", r.httpStatus > 0, QByteArray::number(r.httpStatus));
        QByteArray error;
        if (!r.error.isEmpty())
            cloudevents::appendJsonString(error, r.error);
        field("e", !r.error.isEmpty(), error);
        field("d", true, QByteArray::number(r.durationMs));
        json.append(objects ? '}' : ']');
    }
    json.append(']');
    return json;
}
} // namespace

Error Storage::complete(const QString &owner, const QList<DeliveryRecord> &records, QSet<qint64> *written)
{
    if (records.isEmpty())
        return {};
    const bool allDelivered = std::all_of(records.begin(), records.end(), [](const DeliveryRecord &r) {
        return r.outcome == Attempt::Outcome::Sent && r.newStatus == EventStatus::Sent;
    });
    // SQLite, every event delivered (the usual batch): one statement, its time bound once (the results of a
    // batch are recorded together) and only what differs per event in the JSON.
    const bool shortForm = !m_pg && allDelivered
        && std::all_of(records.begin(), records.end(),
            [&](const DeliveryRecord &r) { return r.attemptedAt == records.first().attemptedAt; });
    const QByteArray jsonBytes = deliveryJson(records, m_pg, shortForm);
    // Bound as UTF-8 bytes: a QString would be bound as UTF-16, which SQLite's JSON functions convert back
    // to UTF-8 on every use.
    const QVariant json = m_pg ? QVariant(QString::fromUtf8(jsonBytes)) : QVariant(jsonBytes);

    // At most two statements for the whole batch, whatever its size: the rows, then the history of the
    // attempts that did not deliver (a delivered event keeps its attempt on its row: sent_at, last_http_status,
    // last_duration_ms, last_relayer). Only rows this relayer still holds are updated; a lease that expired
    // and was taken over is not overwritten.
    std::unique_ptr<Query> update;
    std::unique_ptr<Query> history;
    if (m_pg) {
        update = std::make_unique<Query>(this,
            QStringLiteral(
                "UPDATE outbox_events SET status = r.t, attempts = attempts + 1, next_attempt_at = to_timestamp(r.n / "
                "1000.0),"
                " lease_owner = NULL, lease_expires_at = NULL, last_error = r.e, last_http_status = r.h,"
                " sent_at = COALESCE(to_timestamp(r.a / 1000.0), sent_at), last_duration_ms = r.d, last_relayer = ? "
                "FROM jsonb_to_recordset(CAST(? AS jsonb)) AS r(s bigint, t text, n bigint, e text, h int, a bigint, d "
                "bigint) "
                "WHERE outbox_events.seq = r.s AND outbox_events.lease_owner = ? RETURNING outbox_events.seq"));
        history = std::make_unique<Query>(this,
            QStringLiteral(
                "INSERT INTO outbox_attempts (event_seq, attempted_at, outcome, http_status, error, duration_ms, "
                "relayer) "
                "SELECT r.s, to_timestamp(r.w / 1000.0), r.o, r.h, r.e, r.d, ? "
                "FROM jsonb_to_recordset(CAST(? AS jsonb)) AS r(s bigint, w bigint, o text, h int, e text, d bigint) "
                "WHERE r.o <> 'sent' AND EXISTS (SELECT 1 FROM outbox_events WHERE seq = r.s AND lease_owner = ?)"));
    } else if (shortForm) {
        update = std::make_unique<Query>(this,
            QStringLiteral(
                "UPDATE outbox_events SET status = 'sent', attempts = attempts + 1, next_attempt_at = ?,"
                " lease_owner = NULL, lease_expires_at = NULL, last_error = NULL, last_http_status = r.h,"
                " sent_at = ?, last_duration_ms = r.d, last_relayer = ? "
                "FROM (SELECT value->>0 AS s, value->>1 AS h, value->>2 AS d FROM json_each(CAST(? AS TEXT))) AS r "
                "WHERE outbox_events.seq = r.s AND outbox_events.lease_owner = ? RETURNING outbox_events.seq"),
            Query::Reuse::Kept);
        const qint64 attempted = toMs(records.first().attemptedAt);
        update->bind(attempted).bind(attempted);
    } else {
        // Each row: [seq, status, outcome, attempted at, next attempt at, sent at, http status, error, duration].
        update = std::make_unique<Query>(this,
            QStringLiteral(
                "UPDATE outbox_events SET status = r.t, attempts = attempts + 1, next_attempt_at = r.n,"
                " lease_owner = NULL, lease_expires_at = NULL, last_error = r.e, last_http_status = r.h,"
                " sent_at = COALESCE(r.a, sent_at), last_duration_ms = r.d, last_relayer = ? "
                "FROM (SELECT value->>0 AS s, value->>1 AS t, value->>4 AS n, value->>5 AS a, value->>6 AS h, "
                "value->>7 AS e,"
                " value->>8 AS d FROM json_each(CAST(? AS TEXT))) AS r "
                "WHERE outbox_events.seq = r.s AND outbox_events.lease_owner = ? RETURNING outbox_events.seq"),
            Query::Reuse::Kept);
        history = std::make_unique<Query>(this,
            QStringLiteral("INSERT INTO outbox_attempts (event_seq, attempted_at, outcome, http_status, error, "
                           "duration_ms, relayer) "
                           "SELECT value->>0, value->>3, value->>2, value->>6, value->>7, value->>8, ? FROM "
                           "json_each(CAST(? AS TEXT)) "
                           "WHERE value->>2 <> 'sent' AND EXISTS (SELECT 1 FROM outbox_events WHERE seq = value->>0 "
                           "AND lease_owner = ?)"),
            Query::Reuse::Kept);
    }
    update->bind(owner).bind(json).bind(owner);
    if (history)
        history->bind(owner).bind(json).bind(owner);
    // The history first, while the rows still name their owner: a relayer whose lease has passed to another
    // writes neither the rows nor their attempts. The update returns the rows it wrote, so the caller reports
    // only those.
    return inWriteTransaction(QStringLiteral("cannot write delivery results"), [&]() -> Error {
        if (history && !allDelivered) {
            if (Error e = history->exec(QStringLiteral("cannot record delivery attempts")))
                return e;
        }
        if (Error e = update->exec(QStringLiteral("cannot write delivery results")))
            return e;
        // Read to the end: a statement with rows left open would keep the commit from going through.
        if (written)
            written->clear();
        while (update->q().next()) {
            if (written)
                written->insert(update->q().value(0).toLongLong());
        }
        update->q().finish();
        return Error();
    });
}

Error Storage::inWriteTransaction(const QString &what, const std::function<Error()> &work)
{
    QSqlDatabase db = database();
    if (Error e = beginWrite(db))
        return Error(e.code(), QStringLiteral("%1: %2").arg(what, e.message()));
    QSqlQuery tx(db);
    if (Error e = work()) {
        tx.exec(QStringLiteral("ROLLBACK"));
        return e;
    }
    if (!tx.exec(QStringLiteral("COMMIT"))) {
        const Error e = databaseError(what, tx.lastError());
        tx.exec(QStringLiteral("ROLLBACK"));
        return e;
    }
    return {};
}

namespace {
// A subquery of the sequence numbers bound as one JSON array parameter.
QString sequenceListSql(bool pg)
{
    return pg ? QStringLiteral("(SELECT CAST(jsonb_array_elements_text(CAST(? AS jsonb)) AS BIGINT))")
              : QStringLiteral("(SELECT value FROM json_each(?))");
}

QString sequenceListJson(const QList<qint64> &sequences)
{
    QByteArray json = "[";
    for (qint64 s : sequences) {
        if (json.size() > 1)
            json += ',';
        json += QByteArray::number(s);
    }
    json += ']';
    return QString::fromLatin1(json);
}
} // namespace

Error Storage::release(const QString &owner, const QList<qint64> &sequences)
{
    if (sequences.isEmpty())
        return {};
    Query q(this,
        QStringLiteral("UPDATE outbox_events SET lease_owner = NULL, lease_expires_at = NULL, next_attempt_at = ? "
                       "WHERE lease_owner = ? AND status = 'pending' AND seq IN %1")
            .arg(sequenceListSql(m_pg)),
        Query::Reuse::Kept);
    q.bind(timeParam(m_pg, nowMs())).bind(owner).bind(sequenceListJson(sequences));
    return q.exec(QStringLiteral("cannot release leases"));
}

Error Storage::releaseAll(const QString &owner)
{
    Query q(this,
        QStringLiteral("UPDATE outbox_events SET lease_owner = NULL, lease_expires_at = NULL, next_attempt_at = ? "
                       "WHERE lease_owner = ? AND status = 'pending'"));
    q.bind(timeParam(m_pg, nowMs())).bind(owner);
    return q.exec(QStringLiteral("cannot release leases"));
}

Error Storage::registerRelayer(const QString &owner, qint64 leaseMs)
{
    if (m_pg) {
        // The lock first: a key that another session holds (one taking this relayer over) is not ours any more.
        for (int tries = 0; tries < 8; ++tries) {
            const qint64 key =
                m_lockKey > 0 && tries == 0 ? m_lockKey : qint64(QRandomGenerator::global()->bounded(1, 0x7fffffff));
            Query lock(
                this, QStringLiteral("SELECT pg_try_advisory_lock(%1, CAST(? AS integer))").arg(kRelayerLockClass));
            lock.bind(key);
            if (Error e = lock.exec(QStringLiteral("cannot take the relayer's lock")))
                return e;
            if (lock.q().next() && lock.q().value(0).toBool()) {
                m_lockKey = key;
                break;
            }
            m_lockKey = 0;
        }
        if (m_lockKey == 0)
            return Error(Error::Database, QStringLiteral("cannot take a relayer lock: every key tried is held"));
    }
    const QString host = QHostInfo::localHostName();
    const qint64 pid = QCoreApplication::applicationPid();
    Query q(this,
        QStringLiteral("INSERT INTO outbox_relayers (owner, host, pid, process_start, lock_key, lease_ms, started_at) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?) "
                       "ON CONFLICT (owner) DO UPDATE SET host = excluded.host, pid = excluded.pid, process_start = "
                       "excluded.process_start,"
                       " lock_key = excluded.lock_key, lease_ms = excluded.lease_ms"));
    q.bind(owner)
        .bind(host)
        .bind(pid)
        .bind(textOrNull(detail::processStartToken(pid)))
        .bind(m_pg ? QVariant(m_lockKey) : QVariant(QMetaType(QMetaType::LongLong)))
        .bind(leaseMs)
        .bind(timeParam(m_pg, nowMs()));
    return q.exec(QStringLiteral("cannot register the relayer"));
}

Error Storage::unregisterRelayer(const QString &owner)
{
    Query q(this, QStringLiteral("DELETE FROM outbox_relayers WHERE owner = ?"));
    q.bind(owner);
    Error error = q.exec(QStringLiteral("cannot unregister the relayer"));
    if (m_pg && m_lockKey > 0) {
        Query unlock(this, QStringLiteral("SELECT pg_advisory_unlock_all()"));
        if (Error e = unlock.exec(QStringLiteral("cannot give up the relayer's lock")); e && !error)
            error = e;
        m_lockKey = 0;
    }
    return error;
}

Result<int> Storage::renewLeases(const QString &owner, const QList<qint64> &sequences, qint64 leaseMs)
{
    if (sequences.isEmpty())
        return 0;
    std::unique_ptr<Query> q;
    if (m_pg) {
        // The database's clock, as in claim().
        q = std::make_unique<Query>(this,
            QStringLiteral("UPDATE outbox_events SET lease_expires_at = clock_timestamp() + CAST(? AS bigint) * "
                           "interval '1 millisecond',"
                           " next_attempt_at = clock_timestamp() + CAST(? AS bigint) * interval '1 millisecond' "
                           "WHERE lease_owner = ? AND status = 'pending' AND seq IN %1")
                .arg(sequenceListSql(true)));
        q->bind(leaseMs).bind(leaseMs);
    } else {
        q = std::make_unique<Query>(this,
            QStringLiteral("UPDATE outbox_events SET lease_expires_at = ?, next_attempt_at = ? "
                           "WHERE lease_owner = ? AND status = 'pending' AND seq IN %1")
                .arg(sequenceListSql(false)),
            Query::Reuse::Kept);
        const qint64 until = nowMs() + leaseMs;
        q->bind(until).bind(until);
    }
    q->bind(owner).bind(sequenceListJson(sequences));
    if (Error e = q->exec(QStringLiteral("cannot renew leases")))
        return e;
    return q->q().numRowsAffected();
}

Result<QList<RelayerInfo>> Storage::relayers(bool withLeases)
{
    // PostgreSQL: alive while some session holds the relayer's lock in this database.
    Query q(this,
        m_pg ? QStringLiteral(
            "SELECT owner, host, pid, process_start, lock_key, lease_ms, started_at, EXISTS (SELECT 1 FROM pg_locks l"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND CAST(l.classid AS bigint) = %1"
            " AND CAST(l.objid AS bigint) = r.lock_key AND l.database = (SELECT oid FROM pg_database WHERE datname = "
            "current_database())) "
            "FROM outbox_relayers r ORDER BY started_at, owner")
                   .arg(kRelayerLockClass)
             : QStringLiteral("SELECT owner, host, pid, process_start, lock_key, lease_ms, started_at, NULL "
                              "FROM outbox_relayers ORDER BY started_at, owner"));
    if (Error e = q.exec(QStringLiteral("cannot read the relayers")))
        return e;
    QList<RelayerInfo> list;
    const QString thisHost = QHostInfo::localHostName();
    while (q.q().next()) {
        RelayerInfo r;
        r.owner = q.q().value(0).toString();
        r.host = q.q().value(1).toString();
        r.pid = q.q().value(2).toLongLong();
        r.processStart = q.q().value(3).toString();
        r.lockKey = q.q().value(4).toLongLong();
        r.leaseMs = q.q().value(5).toLongLong();
        r.startedAt = fromMs(q.q().value(6));
        r.registered = true;
        if (m_pg)
            r.state = q.q().value(7).toBool() ? RelayerInfo::State::Alive : RelayerInfo::State::Gone;
        else if (r.host == thisHost && detail::canTellProcessStart() && !r.processStart.isEmpty())
            r.state = detail::processStartToken(r.pid) == r.processStart ? RelayerInfo::State::Alive
                                                                         : RelayerInfo::State::Gone;
        list.append(r);
    }
    if (!withLeases)
        return list;
    Query leases(this,
        QStringLiteral(
            "SELECT lease_owner, COUNT(*), MAX(lease_expires_at) FROM outbox_events"
            " WHERE status = 'pending' AND lease_owner IS NOT NULL GROUP BY lease_owner ORDER BY lease_owner"));
    if (Error e = leases.exec(QStringLiteral("cannot count leases")))
        return e;
    while (leases.q().next()) {
        const QString owner = leases.q().value(0).toString();
        auto it = std::find_if(list.begin(), list.end(), [&](const RelayerInfo &r) { return r.owner == owner; });
        if (it == list.end()) {
            // Leases of an owner that is not registered (a relayer of an older version, or one forgotten):
            // its name tells host and process id; they run out at their expiry.
            RelayerInfo r;
            r.owner = owner;
            const QString where = owner.section(QLatin1Char('@'), 1).section(QLatin1Char('/'), 0, 0);
            r.host = where.section(QLatin1Char(':'), 0, 0);
            r.pid = where.section(QLatin1Char(':'), 1, 1).toLongLong();
            list.append(r);
            it = list.end() - 1;
        }
        it->held = leases.q().value(1).toLongLong();
        it->leaseExpiresAt = fromMs(leases.q().value(2));
        if (it->registered && it->leaseExpiresAt.isValid())
            it->lastRenewal = it->leaseExpiresAt.addMSecs(-it->leaseMs);
    }
    return list;
}

Result<int> Storage::takeOver(const RelayerInfo &gone)
{
    if (!gone.registered)
        return 0;
    if (m_pg) {
        // Holding its lock while releasing: it cannot come back meanwhile, and no other relayer releases too.
        Query lock(this, QStringLiteral("SELECT pg_try_advisory_lock(%1, CAST(? AS integer))").arg(kRelayerLockClass));
        lock.bind(gone.lockKey);
        if (Error e = lock.exec(QStringLiteral("cannot take over a relayer")))
            return e;
        if (!lock.q().next() || !lock.q().value(0).toBool())
            return -1;
    }
    int released = 0;
    Error error = inWriteTransaction(QStringLiteral("cannot take over a relayer"), [&]() -> Error {
        // Due at once and ahead of the backlog: they were due before it (their creation time puts them back
        // in their place in the due order).
        Query release(this,
            QStringLiteral(
                "UPDATE outbox_events SET lease_owner = NULL, lease_expires_at = NULL, next_attempt_at = created_at "
                "WHERE lease_owner = ? AND status = 'pending'"));
        release.bind(gone.owner);
        if (Error e = release.exec(QStringLiteral("cannot release a gone relayer's leases")))
            return e;
        released = release.q().numRowsAffected();
        Query forget(this, QStringLiteral("DELETE FROM outbox_relayers WHERE owner = ?"));
        forget.bind(gone.owner);
        if (Error e = forget.exec(QStringLiteral("cannot forget a gone relayer")))
            return e;
        if (m_pg && released > 0) {
            Query notify(this, QStringLiteral("SELECT pg_notify('%1', '')").arg(QLatin1String(kNotifyChannel)));
            return notify.exec(QStringLiteral("cannot wake the relayers"));
        }
        return Error();
    });
    if (m_pg) {
        Query unlock(this, QStringLiteral("SELECT pg_advisory_unlock(%1, CAST(? AS integer))").arg(kRelayerLockClass));
        unlock.bind(gone.lockKey);
        if (Error e = unlock.exec(QStringLiteral("cannot give up a gone relayer's lock")); e && !error)
            error = e;
    }
    if (error)
        return error;
    return released;
}

Result<qint64> Storage::serverUptimeMs()
{
    if (!m_pg)
        return Error(Error::InvalidArgument, QStringLiteral("only a database server has an uptime"));
    Query q(this,
        QStringLiteral(
            "SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp() - pg_postmaster_start_time()) * 1000 AS bigint)"));
    if (Error e = q.exec(QStringLiteral("cannot read the server's uptime")))
        return e;
    if (!q.q().next())
        return Error(Error::Database, QStringLiteral("cannot read the server's uptime"));
    return q.q().value(0).toLongLong();
}

QString relayerStateName(RelayerInfo::State state)
{
    switch (state) {
    case RelayerInfo::State::Alive:
        return QStringLiteral("alive");
    case RelayerInfo::State::Gone:
        return QStringLiteral("gone");
    case RelayerInfo::State::Unknown:
        return QStringLiteral("unknown");
    }
    return {};
}

Result<qint64> Storage::changeCounter()
{
    if (m_pg)
        return qint64(0); // PostgreSQL relayers are woken by NOTIFY instead
    Query q(this, QStringLiteral("PRAGMA data_version"), Query::Reuse::Kept);
    if (Error e = q.exec(QStringLiteral("cannot read the database's change counter")))
        return e;
    if (!q.q().next())
        return Error(Error::Database, QStringLiteral("cannot read the database's change counter"));
    return q.q().value(0).toLongLong();
}

Result<QDateTime> Storage::nextDueAt()
{
    Query q(this, QStringLiteral("SELECT MIN(next_attempt_at) FROM outbox_events WHERE status = 'pending'"),
        Query::Reuse::Kept);
    if (Error e = q.exec(QStringLiteral("cannot read the next due time")))
        return e;
    if (!q.q().next())
        return QDateTime();
    return fromMs(q.q().value(0));
}

Result<QList<OutboxEvent>> Storage::listEvents(const EventFilter &filter, const PageRequest &page)
{
    Where w = whereFor(filter, m_pg);
    const bool ascending = page.order == PageRequest::Order::Ascending;
    if (ascending && page.afterSequence > 0)
        w.add(QStringLiteral("seq > ?"), page.afterSequence);
    else if (!ascending && page.afterSequence > 0)
        w.add(QStringLiteral("seq < ?"), page.afterSequence);
    Query q(this,
        QStringLiteral("SELECT %1 FROM outbox_events%2 ORDER BY seq %3 LIMIT ?")
            .arg(QLatin1String(page.includeData ? kEventColumns : kEventColumnsWithoutData), w.sql(),
                ascending ? QStringLiteral("ASC") : QStringLiteral("DESC")));
    q.bindAll(w.values).bind(qMax(0, page.limit));
    if (Error e = q.exec(QStringLiteral("cannot list events")))
        return e;
    QList<OutboxEvent> events;
    while (q.q().next())
        events.append(eventFromQuery(q.q()));
    return events;
}

Result<qint64> Storage::countEvents(const EventFilter &filter)
{
    const Where w = whereFor(filter, m_pg);
    Query q(this, QStringLiteral("SELECT COUNT(*) FROM outbox_events%1").arg(w.sql()));
    q.bindAll(w.values);
    if (Error e = q.exec(QStringLiteral("cannot count events")))
        return e;
    q.q().next();
    return q.q().value(0).toLongLong();
}

namespace {
const char *sortColumnName(SortColumn c)
{
    switch (c) {
    case SortColumn::Sequence:
        return nullptr;
    case SortColumn::Type:
        return "type";
    case SortColumn::Source:
        return "source";
    case SortColumn::Subject:
        return "subject";
    case SortColumn::OrderingKey:
        return "ordering_key";
    case SortColumn::Status:
        return "status";
    case SortColumn::Attempts:
        return "attempts";
    case SortColumn::HttpStatus:
        return "last_http_status";
    }
    return nullptr;
}
} // namespace

Result<qint64> Storage::scanSequences(
    const EventFilter &filter, SortOrder order, int chunk, const std::function<bool(const QList<qint64> &)> &sink)
{
    const Where w = whereFor(filter, m_pg);
    const QString dir = order.descending ? QStringLiteral("DESC") : QStringLiteral("ASC");
    const char *column = sortColumnName(order.column);
    const QString orderBy =
        column ? QStringLiteral("%1 %2, seq %2").arg(QLatin1String(column), dir) : QStringLiteral("seq ") + dir;
    Query q(this, QStringLiteral("SELECT seq FROM outbox_events%1 ORDER BY %2").arg(w.sql(), orderBy));
    q.bindAll(w.values);
    if (Error e = q.exec(QStringLiteral("cannot list events")))
        return e;
    qint64 total = 0;
    QList<qint64> batch;
    batch.reserve(qMax(1, chunk));
    while (q.q().next()) {
        batch.append(q.q().value(0).toLongLong());
        if (batch.size() >= chunk) {
            total += batch.size();
            if (!sink(batch))
                return total;
            batch.clear();
        }
    }
    total += batch.size();
    if (!batch.isEmpty())
        sink(batch);
    return total;
}

Result<QList<OutboxEvent>> Storage::eventsBySequence(const QList<qint64> &sequences, bool includeData)
{
    const QString list = sequenceListSql(m_pg);
    Query q(this,
        QStringLiteral("SELECT %1 FROM outbox_events WHERE seq IN %2")
            .arg(QLatin1String(includeData ? kEventColumns : kEventColumnsWithoutData), list));
    q.bind(sequenceListJson(sequences));
    if (Error e = q.exec(QStringLiteral("cannot read events")))
        return e;
    QList<OutboxEvent> events;
    while (q.q().next())
        events.append(eventFromQuery(q.q()));
    return events;
}

Result<QStringList> Storage::idsBySequence(const QList<qint64> &sequences)
{
    const QString list = sequenceListSql(m_pg);
    Query q(this, QStringLiteral("SELECT id FROM outbox_events WHERE seq IN %1").arg(list));
    q.bind(sequenceListJson(sequences));
    if (Error e = q.exec(QStringLiteral("cannot read events")))
        return e;
    QStringList ids;
    while (q.q().next())
        ids.append(q.q().value(0).toString());
    return ids;
}

Result<qint64> Storage::maxSequence()
{
    Query q(this, QStringLiteral("SELECT COALESCE(MAX(seq), 0) FROM outbox_events"));
    if (Error e = q.exec(QStringLiteral("cannot read events")))
        return e;
    q.q().next();
    return q.q().value(0).toLongLong();
}

Result<OutboxEvent> Storage::event(const QString &id)
{
    Query q(this, QStringLiteral("SELECT %1 FROM outbox_events WHERE id = ?").arg(QLatin1String(kEventColumns)));
    q.bind(id);
    if (Error e = q.exec(QStringLiteral("cannot read event")))
        return e;
    if (!q.q().next())
        return Error(Error::NotFound, QStringLiteral("no event with id '%1'").arg(id));
    return eventFromQuery(q.q());
}

Result<QList<Attempt>> Storage::attempts(const QString &id)
{
    // The recorded attempts, then (schema version 3 on) the delivering attempt, which is kept on the event's
    // row; an event delivered before version 3 has it recorded instead.
    Query q(this,
        QStringLiteral(
            "SELECT a.attempted_at, a.outcome, a.http_status, a.error, a.duration_ms, a.relayer, a.id FROM "
            "outbox_attempts a"
            " JOIN outbox_events e ON e.seq = a.event_seq WHERE e.id = ? "
            "UNION ALL SELECT e.sent_at, 'sent', e.last_http_status, NULL, COALESCE(e.last_duration_ms, 0), "
            "e.last_relayer, NULL"
            " FROM outbox_events e WHERE e.id = ? AND e.status = 'sent' AND e.last_relayer IS NOT NULL AND NOT EXISTS"
            " (SELECT 1 FROM outbox_attempts a WHERE a.event_seq = e.seq AND a.outcome = 'sent') "
            "ORDER BY 7 NULLS LAST"));
    q.bind(id).bind(id);
    if (Error e = q.exec(QStringLiteral("cannot read attempts")))
        return e;
    QList<Attempt> list;
    while (q.q().next()) {
        Attempt a;
        a.attemptedAt = fromMs(q.q().value(0));
        a.outcome = outcomeFromName(q.q().value(1).toString());
        a.httpStatus = q.q().value(2).toInt();
        a.error = q.q().value(3).toString();
        a.durationMs = q.q().value(4).toLongLong();
        a.relayer = q.q().value(5).toString();
        list.append(a);
    }
    return list;
}

namespace {
const char *const kBackToPending =
    "UPDATE outbox_events SET status = 'pending', attempts = 0, next_attempt_at = ?, lease_owner = NULL,"
    " lease_expires_at = NULL, last_error = NULL, last_http_status = NULL";
}

Result<ActionSummary> Storage::retry(const QStringList &ids)
{
    const QStringList wanted = unique(ids);
    Query q(this,
        QStringLiteral("%1 WHERE status = 'failed' AND id IN %2").arg(QLatin1String(kBackToPending), idListSql()));
    q.bind(timeParam(m_pg, nowMs())).bind(QString::fromUtf8(jsonList(wanted)));
    if (Error e = q.exec(QStringLiteral("cannot retry events")))
        return e;
    ActionSummary s;
    s.changed = q.q().numRowsAffected();
    s.skipped = int(wanted.size()) - s.changed;
    return s;
}

Result<ActionSummary> Storage::retryMatching(const EventFilter &filter)
{
    ActionSummary s;
    if (filter.status && *filter.status != EventStatus::Failed)
        return s;
    EventFilter failedOnly = filter;
    failedOnly.status = EventStatus::Failed;
    const Where w = whereFor(failedOnly, m_pg);
    Query q(this, QLatin1String(kBackToPending) + w.sql());
    q.bind(timeParam(m_pg, nowMs())).bindAll(w.values);
    if (Error e = q.exec(QStringLiteral("cannot retry events")))
        return e;
    s.changed = q.q().numRowsAffected();
    return s;
}

Result<ActionSummary> Storage::replay(const QStringList &ids)
{
    const QStringList wanted = unique(ids);
    ActionSummary s;
    const QVariant now = timeParam(m_pg, nowMs());
    const QString extensions = m_pg
        ? QStringLiteral("COALESCE(extensions, '{}'::jsonb) || jsonb_build_object('replayof', id)")
        : QStringLiteral("json_set(COALESCE(extensions, '{}'), '$.replayof', id)");
    Error e = inWriteTransaction(QStringLiteral("cannot replay events"), [&]() -> Error {
        for (const QString &id : wanted) {
            const QString newId = createEventId();
            Query q(this,
                QStringLiteral(
                    "INSERT INTO outbox_events (id, type, source, subject, content_type, data, extensions, "
                    "ordering_key,"
                    " status, attempts, next_attempt_at, created_at, replay_of) "
                    "SELECT ?, type, source, subject, content_type, data, %1, ordering_key, 'pending', 0, ?, ?, id"
                    " FROM outbox_events WHERE id = ? AND status IN ('sent', 'failed')")
                    .arg(extensions));
            q.bind(newId).bind(now).bind(now).bind(id);
            if (Error e = q.exec(QStringLiteral("cannot replay event '%1'").arg(id)))
                return e;
            if (q.q().numRowsAffected() == 1) {
                ++s.changed;
                s.newIds.append(newId);
            } else {
                ++s.skipped;
            }
        }
        return {};
    });
    if (e)
        return e;
    if (m_pg && s.changed > 0) {
        Query notify(this, QStringLiteral("SELECT pg_notify('%1', '')").arg(QLatin1String(kNotifyChannel)));
        notify.exec(QStringLiteral("cannot notify relayers"));
    }
    return s;
}

Result<ActionSummary> Storage::remove(const QStringList &ids)
{
    const QStringList wanted = unique(ids);
    const QString json = QString::fromUtf8(jsonList(wanted));
    Query history(this,
        QStringLiteral("DELETE FROM outbox_attempts WHERE event_seq IN (SELECT seq FROM outbox_events WHERE id IN %1)")
            .arg(idListSql()));
    history.bind(json);
    Query rows(this, QStringLiteral("DELETE FROM outbox_events WHERE id IN %1").arg(idListSql()));
    rows.bind(json);
    Error e = inWriteTransaction(QStringLiteral("cannot delete events"), [&]() -> Error {
        if (Error e = history.exec(QStringLiteral("cannot delete events")))
            return e;
        return rows.exec(QStringLiteral("cannot delete events"));
    });
    if (e)
        return e;
    ActionSummary s;
    s.changed = rows.q().numRowsAffected();
    s.skipped = int(wanted.size()) - s.changed;
    return s;
}

Result<int> Storage::cleanup(const QDateTime &olderThan, const QList<EventStatus> &statuses, int batchSize)
{
    if (statuses.isEmpty())
        return 0;
    QStringList names;
    for (EventStatus s : statuses)
        names.append(QLatin1Char('\'') + statusName(s) + QLatin1Char('\''));
    const QString victims =
        QStringLiteral("SELECT seq FROM outbox_events WHERE status IN (%1) AND created_at < ? ORDER BY seq LIMIT ?")
            .arg(names.join(QLatin1Char(',')));
    const QVariant cutoff = timeParam(m_pg, toMs(olderThan));
    int total = 0;
    // Bounded batches, each its own short transaction, so relayers and the console are never locked out for long.
    for (;;) {
        Query history(this, QStringLiteral("DELETE FROM outbox_attempts WHERE event_seq IN (%1)").arg(victims));
        history.bind(cutoff).bind(batchSize);
        Query rows(this, QStringLiteral("DELETE FROM outbox_events WHERE seq IN (%1)").arg(victims));
        rows.bind(cutoff).bind(batchSize);
        Error e = inWriteTransaction(QStringLiteral("cannot clean up events"), [&]() -> Error {
            if (Error e = history.exec(QStringLiteral("cannot clean up events")))
                return e;
            return rows.exec(QStringLiteral("cannot clean up events"));
        });
        if (e)
            return e;
        const int n = rows.q().numRowsAffected();
        total += n;
        if (n < batchSize)
            break;
    }
    return total;
}

Result<OutboxStats> Storage::stats()
{
    OutboxStats s;
    Query counts(this, QStringLiteral("SELECT status, COUNT(*) FROM outbox_events GROUP BY status"));
    if (Error e = counts.exec(QStringLiteral("cannot count events")))
        return e;
    while (counts.q().next()) {
        EventStatus status;
        if (!parseStatus(counts.q().value(0).toString(), &status))
            continue;
        const qint64 n = counts.q().value(1).toLongLong();
        (status == EventStatus::Pending ? s.pending : status == EventStatus::Failed ? s.failed : s.sent) = n;
    }
    Query inFlight(this,
        QStringLiteral("SELECT COUNT(*) FROM outbox_events WHERE status = 'pending' AND lease_owner IS NOT NULL AND "
                       "lease_expires_at > ?"));
    inFlight.bind(timeParam(m_pg, nowMs()));
    if (Error e = inFlight.exec(QStringLiteral("cannot count events in flight")))
        return e;
    if (inFlight.q().next())
        s.inFlight = inFlight.q().value(0).toLongLong();
    Query oldest(
        this, QStringLiteral("SELECT created_at FROM outbox_events WHERE status = 'pending' ORDER BY seq LIMIT 1"));
    if (Error e = oldest.exec(QStringLiteral("cannot read the oldest pending event")))
        return e;
    if (oldest.q().next())
        s.oldestPendingCreatedAt = fromMs(oldest.q().value(0));
    Query blocked(this,
        QStringLiteral(
            "SELECT DISTINCT ordering_key FROM outbox_events WHERE status = 'failed' AND ordering_key IS NOT NULL"
            " ORDER BY ordering_key LIMIT 1000"));
    if (Error e = blocked.exec(QStringLiteral("cannot read blocked keys")))
        return e;
    while (blocked.q().next())
        s.blockedKeys.append(blocked.q().value(0).toString());
    s.blockedKeyCount = s.blockedKeys.size();
    if (s.blockedKeyCount == 1000) { // the list stops there; the count does not
        Query count(this,
            QStringLiteral("SELECT COUNT(DISTINCT ordering_key) FROM outbox_events WHERE status = 'failed'"
                           " AND ordering_key IS NOT NULL"));
        if (Error e = count.exec(QStringLiteral("cannot count blocked keys")))
            return e;
        if (count.q().next())
            s.blockedKeyCount = count.q().value(0).toLongLong();
    }
    return s;
}

QString createEventId()
{
    // RFC 9562 UUID version 7: 48 bits of Unix milliseconds, then version, variant and random bits.
    quint8 b[16];
    const quint64 ms = quint64(QDateTime::currentMSecsSinceEpoch());
    for (int i = 0; i < 6; ++i)
        b[i] = quint8(ms >> (40 - 8 * i));
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(b + 8), 2);
    const quint32 r = QRandomGenerator::system()->generate();
    b[6] = quint8(0x70 | (r & 0x0f));
    b[7] = quint8(r >> 8);
    b[8] = quint8(0x80 | (b[8] & 0x3f));
    return QUuid::fromRfc4122(QByteArrayView(reinterpret_cast<const char *>(b), 16)).toString(QUuid::WithoutBraces);
}

QString statusName(EventStatus status)
{
    switch (status) {
    case EventStatus::Pending:
        return QStringLiteral("pending");
    case EventStatus::Failed:
        return QStringLiteral("failed");
    case EventStatus::Sent:
        return QStringLiteral("sent");
    }
    return {};
}

bool parseStatus(const QString &name, EventStatus *status)
{
    if (name == QLatin1String("pending"))
        *status = EventStatus::Pending;
    else if (name == QLatin1String("failed"))
        *status = EventStatus::Failed;
    else if (name == QLatin1String("sent"))
        *status = EventStatus::Sent;
    else
        return false;
    return true;
}

QString outcomeName(Attempt::Outcome outcome)
{
    switch (outcome) {
    case Attempt::Outcome::Sent:
        return QStringLiteral("sent");
    case Attempt::Outcome::Retry:
        return QStringLiteral("retry");
    case Attempt::Outcome::Failed:
        return QStringLiteral("failed");
    }
    return {};
}

Attempt::Outcome outcomeFromName(const QString &name)
{
    if (name == QLatin1String("retry"))
        return Attempt::Outcome::Retry;
    if (name == QLatin1String("failed"))
        return Attempt::Outcome::Failed;
    return Attempt::Outcome::Sent;
}

} // namespace outbox
