// SPDX-License-Identifier: MIT
// SQLite: the embedded default. Times are Unix milliseconds; one writer at a time (BEGIN IMMEDIATE, the busy
// timeout); relayers in this process are woken by a commit hook, in others by the data_version counter.
#include "dialect.h"
#include "sqlstorage.h"
#include "wakeevent.h"

#include <QDir>
#include <QUrl>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSqlDriver>
#include <QSqlError>
#include <QSqlQuery>
#include <QSqlResult>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

#include <sqlite3.h>

namespace outbox::detail {

namespace {

// The sqlite3 handle behind a QSQLITE connection (Qt documents QSqlDriver::handle() for this), or nullptr.
sqlite3 *sqliteHandle(const QSqlDatabase &db)
{
    const QVariant v = db.driver() ? db.driver()->handle() : QVariant();
    if (!v.isValid() || qstrcmp(v.typeName(), "sqlite3*") != 0)
        return nullptr;
    return *static_cast<sqlite3 *const *>(v.constData());
}

constexpr int kBusyTimeoutMs = 10000;

// How often this thread found the write lock taken (see Dialect::lockWaits).
thread_local qint64 t_lockWaits = 0;
thread_local std::chrono::steady_clock::time_point t_waitStarted;

// The busy handler of our connections, and of an application's once it enqueues (its argument then the
// connection's ConnectionCache, holding the application's timeout). SQLite's own handler sleeps 1, 2, 5 … up to
// 100 ms between two tries, so a writer that waits while another commits every few milliseconds (a relayer at
// full speed, a cleanup) keeps missing the gaps between their transactions: measured, an application's write
// beside a batched relayer waited up to a second. This one looks again at most every millisecond, for as long
// in all as the busy timeout.
int waitForLock(void *cache, int count)
{
    using namespace std::chrono;
    const auto now = steady_clock::now();
    if (count == 0) {
        t_waitStarted = now;
        ++t_lockWaits;
    }
    const int timeoutMs = cache ? static_cast<ConnectionCache *>(cache)->busyTimeoutMs : kBusyTimeoutMs;
    if (now - t_waitStarted >= milliseconds(timeoutMs))
        return 0; // SQLITE_BUSY: "database is locked"
    std::this_thread::sleep_for(microseconds(std::min(1000, 50 << std::min(count, 5))));
    return 1;
}

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

// The claim's statement, prepared once on the connection's own handle (finalised before it closes).
class SqliteState final : public DialectState
{
public:
    ~SqliteState() override { reset(); }
    void reset()
    {
        if (statement)
            sqlite3_finalize(statement);
        for (sqlite3_stmt *s : {delivered, deliveredSame, deliveredWritten}) {
            if (s)
                sqlite3_finalize(s);
        }
        statement = nullptr;
        delivered = nullptr;
        deliveredSame = nullptr;
        deliveredWritten = nullptr;
        handle = nullptr;
        sql.clear();
    }
    sqlite3 *handle = nullptr; // the connection both statements were prepared on
    sqlite3_stmt *statement = nullptr; // the claim
    QString sql; // the claim's text (with its type condition)
    sqlite3_stmt *delivered = nullptr; // complete-delivered.sql
    sqlite3_stmt *deliveredSame = nullptr; // complete-delivered-same.sql
    sqlite3_stmt *deliveredWritten = nullptr; // complete-delivered-written.sql
};

// sqlite:///absolute/path, sqlite:relative/path (file: alike).
Result<ConnectionSpec> sqliteSpecFromUrl(const QString &text)
{
    const qsizetype colon = text.indexOf(QLatin1Char(':'));
    QString rest = text.mid(colon + 1);
    if (rest.startsWith(QLatin1String("//"))) {
        rest = rest.mid(2);
        // sqlite:///abs/path: an empty authority, then an absolute path
        if (!rest.startsWith(QLatin1Char('/')))
            return Error(Error::InvalidArgument,
                QStringLiteral("malformed SQLite URL '%1': use sqlite:///absolute/path.db or sqlite:relative/path.db")
                    .arg(text));
    }
    rest = QUrl::fromPercentEncoding(rest.toUtf8());
    if (rest.isEmpty() || rest == QLatin1String("/"))
        return Error(Error::InvalidArgument, QStringLiteral("malformed SQLite URL '%1': no file path").arg(text));
    return ConnectionSpec::sqlite(rest);
}

class SqliteDialect final : public Dialect
{
public:
    QString name() const override { return QStringLiteral("sqlite"); }
    QString driverName() const override { return QStringLiteral("QSQLITE"); }
    QStringList urlSchemes() const override { return {QStringLiteral("sqlite"), QStringLiteral("file")}; }
    Result<ConnectionSpec> specFromUrl(const QString &text) const override { return sqliteSpecFromUrl(text); }
    QString urlOf(const ConnectionSpec &spec, const QString &) const override
    {
        const QString &path = spec.database;
        return QStringLiteral("sqlite://")
            + (QDir::isAbsolutePath(path) ? path : QDir::current().absoluteFilePath(path));
    }
    QString displayName() const override { return QStringLiteral("SQLite"); }
    bool has(Storage::Capability c) const override
    {
        return c == Storage::Capability::LocalFile || c == Storage::Capability::ChangeCounter;
    }

    void configure(QSqlDatabase &db, const ConnectionSpec &spec) const override
    {
        db.setDatabaseName(spec.database);
        // Wait for a busy database rather than failing: relayers, the console and applications share one file.
        db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=%1").arg(kBusyTimeoutMs));
    }

    Error setUpSession(QSqlDatabase &db, const ConnectionSpec &spec, bool forWrites) const override
    {
        if (sqlite3 *handle = sqliteHandle(db))
            sqlite3_busy_handler(handle, waitForLock, nullptr);
        if (forWrites)
            return prepareForWrites(db, spec);
        // Still find out now whether it is a database at all (a read).
        QSqlQuery q(db);
        if (!q.exec(QStringLiteral("SELECT COUNT(*) FROM sqlite_master")))
            return openError(spec, q.lastError());
        return {};
    }

    Error prepareForWrites(QSqlDatabase &db, const ConnectionSpec &spec) const override
    {
        QSqlQuery q(db);
        if (!q.exec(QStringLiteral("PRAGMA journal_mode=WAL")))
            return openError(spec, q.lastError());
        q.exec(QStringLiteral("PRAGMA synchronous=NORMAL"));
        return {};
    }

    QString where(const ConnectionSpec &spec) const override { return spec.database; }

    Error migrate(QSqlDatabase &db) const override
    {
        QSqlQuery q(db);
        if (!q.exec(sql(QStringLiteral("schema-table")))) {
            const QString why = errorText(q.lastError());
            if (why.contains(QLatin1String("not a database")))
                return Error(
                    Error::InvalidArgument, QStringLiteral("'%1' is not a SQLite database").arg(db.databaseName()));
            return Error(Error::Database, QStringLiteral("cannot create the outbox schema: %1").arg(why));
        }
        if (!q.exec(sql(QStringLiteral("schema-version"))) || !q.next())
            return databaseError(QStringLiteral("cannot read the outbox schema version"), q.lastError());
        const int current = q.value(0).toInt();
        q.finish();
        if (current > Storage::schemaVersion())
            return newerSchemaError(current);
        if (current == Storage::schemaVersion())
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
        // Take the write lock (a write that changes nothing), then read the version again: another process
        // may have migrated meanwhile, and not every migration can run twice.
        if (!q.exec(QStringLiteral("UPDATE outbox_schema SET version = version WHERE version < 0"))
            || !q.exec(sql(QStringLiteral("schema-version"))) || !q.next())
            return rollback(databaseError(QStringLiteral("cannot migrate the outbox schema"), q.lastError()));
        const int locked = q.value(0).toInt();
        q.finish();
        if (locked > Storage::schemaVersion())
            return rollback(newerSchemaError(locked));
        if (Error e = applyMigrations(db, locked))
            return rollback(e);
        if (!q.exec(QStringLiteral("RELEASE outbox_migrate")))
            return databaseError(QStringLiteral("cannot commit the outbox schema"), q.lastError());
        return {};
    }

    QVariant time(qint64 ms) const override { return ms; }
    // UTF-8 bytes: a QString would be bound as UTF-16, which SQLite's JSON functions convert back on every use.
    QVariant jsonParameter(const QByteArray &json) const override { return json; }

    QString typeCondition(const QStringList &globs) const override
    {
        QStringList patterns;
        for (const QString &g : globs)
            patterns << globToSqliteGlob(g);
        return patternCondition(patterns);
    }
    qint64 lockWaits() const override { return t_lockWaits; }

    std::unique_ptr<DialectState> newState() const override { return std::make_unique<SqliteState>(); }

    // The claim runs on the connection's own handle, its statement prepared once. Through Qt every cell of
    // the returned rows became a QVariant first, which cost more than the UPDATE itself.
    Result<QList<OutboxEvent>> claim(
        SqlConnection &connection, const QString &owner, int limit, qint64 leaseMs, const QString &types) const override
    {
        const QString what = QStringLiteral("cannot claim events");
        auto *state = static_cast<SqliteState *>(connection.dialectState());
        const QSqlDatabase db = connection.database();
        sqlite3 *handle = db.isOpen() ? sqliteHandle(db) : nullptr;
        if (!handle)
            return Error(Error::Database, QStringLiteral("%1: no connection to the database").arg(what));
        if (state->handle != handle || state->sql.isEmpty()) {
            state->reset();
            // A connection that claims is a relayer's: its statement journals and the RETURNING rows stay in
            // memory. They are small (a batch's pages), and on a file SQLite created, wrote, read back and
            // deleted a temporary file for most write-backs (1,400 files and 2,600 heap trims in a drain of
            // 200,000 events; 20 % of the rate).
            sqlite3_exec(handle, "PRAGMA temp_store=MEMORY", nullptr, nullptr, nullptr);
            const QString text = sql(QStringLiteral("claim")).replace(QLatin1String("{{types}}"), types);
            if (sqlite3_prepare_v3(
                    handle, text.toUtf8().constData(), -1, SQLITE_PREPARE_PERSISTENT, &state->statement, nullptr)
                != SQLITE_OK) {
                const Error e(
                    Error::Database, QStringLiteral("%1: %2").arg(what, QString::fromUtf8(sqlite3_errmsg(handle))));
                state->reset();
                return e;
            }
            state->handle = handle;
            state->sql = text;
        }
        sqlite3_stmt *st = state->statement;
        const qint64 now = nowMs();
        const QByteArray ownerUtf8 = owner.toUtf8();
        sqlite3_bind_text(st, 1, ownerUtf8.constData(), int(ownerUtf8.size()), SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, now + leaseMs);
        sqlite3_bind_int64(st, 3, now + leaseMs);
        sqlite3_bind_int64(st, 4, now);
        sqlite3_bind_int(st, 5, limit);
        connection.countStatement();

        const auto text = [st](int column) {
            const auto *chars = reinterpret_cast<const char *>(sqlite3_column_text(st, column));
            return chars ? QString::fromUtf8(chars, sqlite3_column_bytes(st, column)) : QString();
        };
        // Texts that repeat from row to row (type, source, content type) are made
        // into a QString once and shared: a claim of 100 events otherwise allocated and converted each of them
        // 100 times, a measurable share of the relayer's thread in batch mode.
        struct Repeated
        {
            QByteArray bytes;
            QString text;
        };
        const auto repeated = [st](int column, Repeated &last) {
            const auto *chars = reinterpret_cast<const char *>(sqlite3_column_text(st, column));
            if (!chars)
                return QString();
            const int size = sqlite3_column_bytes(st, column);
            if (last.bytes.size() != size || std::memcmp(last.bytes.constData(), chars, size_t(size)) != 0) {
                last.bytes = QByteArray(chars, size);
                last.text = QString::fromUtf8(chars, size);
            }
            return last.text;
        };
        Repeated type, source, contentType;
        const QDateTime until = QDateTime::fromMSecsSinceEpoch(now + leaseMs, Qt::UTC);
        const auto time = [st](int column) {
            return sqlite3_column_type(st, column) == SQLITE_NULL
                ? QDateTime()
                : QDateTime::fromMSecsSinceEpoch(sqlite3_column_int64(st, column), Qt::UTC);
        };
        QList<OutboxEvent> events;
        events.reserve(limit);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            // The columns of claim-columns.sql, in order; the rest as the statement wrote them.
            OutboxEvent e;
            e.sequence = sqlite3_column_int64(st, 0);
            e.id = text(1);
            e.type = repeated(2, type);
            e.source = repeated(3, source);
            e.subject = text(4);
            e.contentType = repeated(5, contentType);
            const void *data = sqlite3_column_blob(st, 6);
            e.data = data ? QByteArray(static_cast<const char *>(data), sqlite3_column_bytes(st, 6)) : QByteArray("");
            if (const auto *ext = static_cast<const char *>(sqlite3_column_blob(st, 7));
                ext && sqlite3_column_bytes(st, 7) > 0)
                e.extensions = QJsonDocument::fromJson(QByteArray(ext, sqlite3_column_bytes(st, 7))).object();
            e.orderingKey = text(8);
            e.status = EventStatus::Pending;
            e.attempts = sqlite3_column_int(st, 9);
            e.nextAttemptAt = until;
            e.leaseOwner = owner;
            e.leaseExpiresAt = until;
            e.lastError = text(10);
            e.lastHttpStatus = sqlite3_column_int(st, 11);
            e.createdAt = time(12);
            e.replayOf = text(13);
            events.append(std::move(e));
        }
        if (rc != SQLITE_DONE) {
            const Error e(
                Error::Database, QStringLiteral("%1: %2").arg(what, QString::fromUtf8(sqlite3_errmsg(handle))));
            sqlite3_reset(st);
            return e;
        }
        sqlite3_reset(st);
        return inSequenceOrder(std::move(events));
    }

    // The results by position in arrays; a batch in which every event was delivered at one time (the usual
    // batch) in one statement with the time bound once and only what differs per event in the JSON.
    Error complete(SqlConnection &connection, const QString &owner, const QList<DeliveryRecord> &records,
        QSet<qint64> *written) const override
    {
        if (deliveredWithOneAnswer(records))
            return completeDeliveredSame(connection, owner, records, written);
        const bool delivered = allDelivered(records);
        const bool shortForm = delivered && std::all_of(records.begin(), records.end(), [&](const DeliveryRecord &r) {
            return r.attemptedAt == records.first().attemptedAt;
        });
        const QByteArray json = deliveryJson(records, false, shortForm);
        if (shortForm)
            return completeDelivered(connection, owner, toMs(records.first().attemptedAt), json, written);
        Query update(connection, sql(QStringLiteral("complete-update")), Query::Reuse::Kept);
        Query history(connection, sql(QStringLiteral("complete-history")), Query::Reuse::Kept);
        history.bind(owner).bind(json).bind(owner);
        update.bind(owner).bind(json).bind(owner);
        // The history first, while the rows still name their owner.
        auto write = [&]() -> Error {
            if (!delivered) {
                if (Error e = history.exec(QStringLiteral("cannot record delivery attempts")))
                    return e;
            }
            if (Error e = update.exec(QStringLiteral("cannot write delivery results")))
                return e;
            // Read to the end: a statement with rows left open would keep the commit from going through.
            return readWritten(update, written);
        };
        // Deliveries alone are one UPDATE: a statement of its own is a write transaction of its own (SQLite
        // takes the write lock when the statement starts, waiting through the busy handler as BEGIN IMMEDIATE
        // does), so it needs no BEGIN and COMMIT around it: two statements fewer per write-back.
        if (delivered)
            return write();
        return connection.inWriteTransaction(QStringLiteral("cannot write delivery results"), write);
    }

    // The relayer connection's own handle for a write-back, with its SqliteState (forgotten when the handle
    // changed), and a statement of that state prepared once; an Error saying why when there is none.
    struct WriteBack
    {
        sqlite3 *handle = nullptr;
        SqliteState *state = nullptr;
        Error error;
        Error failed(const QString &what) const
        {
            return Error(
                Error::Database, QStringLiteral("%1: %2").arg(what, QString::fromUtf8(sqlite3_errmsg(handle))));
        }
        bool prepare(sqlite3_stmt **st, const QString &text) const
        {
            if (*st)
                return true;
            if (sqlite3_prepare_v3(handle, text.toUtf8().constData(), -1, SQLITE_PREPARE_PERSISTENT, st, nullptr)
                == SQLITE_OK)
                return true;
            sqlite3_finalize(*st);
            *st = nullptr;
            return false;
        }
    };
    // For a write-back: its statement (a member of SqliteState) prepared, the caller's set of written
    // sequences emptied.
    WriteBack writeBack(SqlConnection &connection, sqlite3_stmt *SqliteState::*statement, const QString &name,
        QSet<qint64> *written) const
    {
        const QString what = QStringLiteral("cannot write delivery results");
        if (written)
            written->clear();
        WriteBack w;
        w.state = static_cast<SqliteState *>(connection.dialectState());
        const QSqlDatabase db = connection.database();
        w.handle = db.isOpen() ? sqliteHandle(db) : nullptr;
        if (!w.handle) {
            w.error = Error(Error::Database, QStringLiteral("%1: no connection to the database").arg(what));
            return w;
        }
        if (w.state->handle != w.handle) {
            w.state->reset();
            w.state->handle = w.handle;
        }
        if (!w.prepare(&(w.state->*statement), sql(name)))
            w.error = w.failed(what);
        return w;
    }

    // The usual write-back, every event of the batch delivered at one time, with SQLite's own calls on the
    // relayer's connection, as the claim: through Query, QSqlQuery copied the values it binds and cached
    // every returned sequence as a row of QVariants (a fifth of the relayer's thread with one request per
    // event). An error at the last step, the statement's commit, comes after its rows (see readWritten).
    Error completeDelivered(SqlConnection &connection, const QString &owner, qint64 attempted, const QByteArray &json,
        QSet<qint64> *written) const
    {
        const QString what = QStringLiteral("cannot write delivery results");
        const WriteBack w =
            writeBack(connection, &SqliteState::delivered, QStringLiteral("complete-delivered"), written);
        if (w.error)
            return w.error;
        SqliteState *state = w.state;
        const auto failed = [&] { return w.failed(what); };
        sqlite3_stmt *st = state->delivered;
        const QByteArray ownerUtf8 = owner.toUtf8();
        sqlite3_bind_int64(st, 1, attempted); // next_attempt_at
        sqlite3_bind_int64(st, 2, attempted); // sent_at
        sqlite3_bind_text(st, 3, ownerUtf8.constData(), int(ownerUtf8.size()), SQLITE_STATIC); // last_relayer
        sqlite3_bind_text(st, 4, json.constData(), int(json.size()), SQLITE_STATIC);
        sqlite3_bind_text(st, 5, ownerUtf8.constData(), int(ownerUtf8.size()), SQLITE_STATIC); // whose leases
        connection.countStatement();
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            if (written)
                written->insert(sqlite3_column_int64(st, 0));
        }
        Error e;
        if (rc != SQLITE_DONE) {
            e = failed();
            if (written)
                written->clear();
        }
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return e;
    }

    // Every event delivered at one time with the same answer (a batch sent in one request): the values bound
    // once, no FROM and no RETURNING (complete-delivered-same.sql says why); the rows written are counted, and
    // only when fewer than the batch are they asked for.
    Error completeDeliveredSame(SqlConnection &connection, const QString &owner, const QList<DeliveryRecord> &records,
        QSet<qint64> *written) const
    {
        const QString what = QStringLiteral("cannot write delivery results");
        const WriteBack w =
            writeBack(connection, &SqliteState::deliveredSame, QStringLiteral("complete-delivered-same"), written);
        if (w.error)
            return w.error;
        SqliteState *state = w.state;
        sqlite3 *handle = w.handle;
        const auto failed = [&] { return w.failed(what); };
        const QByteArray sequences = sequenceList(records, '[', ']');
        const DeliveryRecord &first = records.first();
        const qint64 attempted = toMs(first.attemptedAt);
        const QByteArray ownerUtf8 = owner.toUtf8();
        sqlite3_stmt *st = state->deliveredSame;
        sqlite3_bind_int64(st, 1, attempted); // next_attempt_at, sent_at
        if (first.httpStatus > 0)
            sqlite3_bind_int(st, 2, first.httpStatus);
        else
            sqlite3_bind_null(st, 2); // delivered without HTTP (a broker, a custom sender)
        sqlite3_bind_int64(st, 3, first.durationMs);
        sqlite3_bind_text(st, 4, ownerUtf8.constData(), int(ownerUtf8.size()), SQLITE_STATIC); // relayer, leases
        sqlite3_bind_text(st, 5, sequences.constData(), int(sequences.size()), SQLITE_STATIC);
        connection.countStatement();
        const int rc = sqlite3_step(st);
        const int changed = rc == SQLITE_DONE ? sqlite3_changes(handle) : 0;
        const Error e = rc == SQLITE_DONE ? Error() : failed();
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        if (e || !written)
            return e;
        if (changed == int(records.size())) {
            for (const DeliveryRecord &r : records)
                written->insert(r.sequence);
            return Error();
        }
        if (!w.prepare(&state->deliveredWritten, sql(QStringLiteral("complete-delivered-written"))))
            return failed();
        st = state->deliveredWritten;
        sqlite3_bind_text(st, 1, sequences.constData(), int(sequences.size()), SQLITE_STATIC);
        sqlite3_bind_text(st, 2, ownerUtf8.constData(), int(ownerUtf8.size()), SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, attempted);
        connection.countStatement();
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW)
            written->insert(sqlite3_column_int64(st, 0));
        Error read;
        if (step != SQLITE_DONE) {
            read = failed();
            written->clear();
        }
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return read;
    }

    // A payload that stays in the row (1 KiB or less, the rule of migrate-9.sql's trigger) is written straight
    // into the table; a larger one through the view outbox_enqueue, whose trigger writes it beside the row.
    QString insertStatement(qsizetype dataBytes) const override
    {
        return dataBytes <= 1024 ? QStringLiteral("insert-event-row") : QStringLiteral("insert-event");
    }

    // The statement Qt prepared (Qt finalises it when the connection closes), bound and stepped with SQLite's
    // own calls: QSqlQuery names every positional value (a string formatted per value), copies the values
    // and binds text as UTF-16 anyway. The same values, types and error text as through Qt.
    NativeInsert insertNatively(
        QSqlQuery &q, const OutboxEvent &e, qint64 createdMs, const QByteArray &extensions) const override
    {
        const QVariant h = q.result() ? q.result()->handle() : QVariant();
        if (!h.isValid() || qstrcmp(h.typeName(), "sqlite3_stmt*") != 0)
            return {};
        sqlite3_stmt *st = *static_cast<sqlite3_stmt *const *>(h.constData());
        if (!st || sqlite3_bind_parameter_count(st) != 11)
            return {};
        sqlite3_reset(st);
        sqlite3_clear_bindings(st); // what is not bound below is NULL
        const auto text = [st](int i, const QString &s) {
            if (!s.isEmpty())
                sqlite3_bind_text16(st, i, s.utf16(), int(s.size() * 2), SQLITE_STATIC);
        };
        sqlite3_bind_text16(st, 1, e.id.utf16(), int(e.id.size() * 2), SQLITE_STATIC);
        sqlite3_bind_text16(st, 2, e.type.utf16(), int(e.type.size() * 2), SQLITE_STATIC);
        sqlite3_bind_text16(st, 3, e.source.utf16(), int(e.source.size() * 2), SQLITE_STATIC);
        text(4, e.subject);
        text(5, e.contentType);
        if (e.data.isEmpty())
            sqlite3_bind_zeroblob(st, 6, 0);
        else
            sqlite3_bind_blob(st, 6, e.data.constData(), int(e.data.size()), SQLITE_STATIC);
        if (!extensions.isEmpty())
            sqlite3_bind_text(st, 7, extensions.constData(), int(extensions.size()), SQLITE_STATIC);
        text(8, e.orderingKey);
        sqlite3_bind_int64(st, 9, createdMs);
        sqlite3_bind_int64(st, 10, createdMs);
        text(11, e.replayOf);
        NativeInsert result;
        if (sqlite3_step(st) == SQLITE_DONE) {
            result.outcome = NativeInsert::Outcome::Written;
        } else {
            sqlite3 *handle = sqlite3_db_handle(st);
            const int code = sqlite3_extended_errcode(handle);
            result.outcome = NativeInsert::Outcome::Failed;
            result.why = QString::fromUtf8(sqlite3_errmsg(handle));
            result.duplicate = code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY
                || result.why.contains(QLatin1String("UNIQUE constraint failed"));
        }
        sqlite3_reset(st);
        sqlite3_clear_bindings(st); // nothing of the event's stays bound
        return result;
    }

    // After an error such as SQLITE_FULL or SQLITE_IOERR, SQLite has rolled the caller's whole transaction
    // back: the caller is told, and the INSERT is never retried (a retry would commit the event on its own).
    bool inTransaction(const QSqlDatabase &db) const override
    {
        sqlite3 *handle = sqliteHandle(db);
        return handle && !sqlite3_get_autocommit(handle);
    }

    // Only over SQLite's own handler with a timeout (PRAGMA busy_timeout reads 0 with no timeout or with a
    // handler the application installed itself: then it is left as it is).
    void adoptConnection(const QSqlDatabase &db) const override
    {
        sqlite3 *handle = sqliteHandle(db);
        sqlite3_stmt *st = nullptr;
        if (!handle || sqlite3_prepare_v2(handle, "PRAGMA busy_timeout", -1, &st, nullptr) != SQLITE_OK)
            return;
        const int timeoutMs = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
        sqlite3_finalize(st);
        if (timeoutMs <= 0)
            return;
        ConnectionCache *cache = ConnectionCache::of(db);
        cache->busyTimeoutMs = timeoutMs;
        sqlite3_busy_handler(handle, waitForLock, cache);
    }

    // Wake relayers in this process when the row becomes visible: at once outside a transaction, else when
    // the caller's transaction commits (and only that one: the hook fires once per enqueuing commit).
    void afterEnqueue(const QSqlDatabase &db) const override
    {
        sqlite3 *handle = sqliteHandle(db);
        if (!handle)
            return;
        if (sqlite3_get_autocommit(handle)) {
            WakeEvent::raise();
            return;
        }
        ConnectionCache *cache = ConnectionCache::of(db);
        // Installed on every enqueue (cheap), so a reopened connection's new handle gets them too. The cache
        // outlives the handle (it goes with the driver), so the hooks' argument stays valid while they can fire.
        sqlite3_commit_hook(handle, onCommit, cache);
        sqlite3_rollback_hook(handle, onRollback, cache);
        cache->enqueuedInTransaction.storeRelaxed(1);
    }

    ErrorKind classify(const QSqlError &e) const override
    {
        // SQLITE_CONSTRAINT_UNIQUE and SQLITE_CONSTRAINT_PRIMARYKEY, or their text where the code is the plain one.
        const QString code = e.nativeErrorCode();
        if (code == QLatin1String("2067") || code == QLatin1String("1555")
            || errorText(e).contains(QLatin1String("UNIQUE constraint failed")))
            return ErrorKind::DuplicateKey;
        return ErrorKind::Other;
    }

private:
    Error openError(const ConnectionSpec &spec, const QSqlError &error) const
    {
        const QString why = errorText(error);
        if (why.contains(QLatin1String("not a database")))
            return Error(Error::InvalidArgument, QStringLiteral("'%1' is not a SQLite database").arg(spec.database));
        return Error(Error::Database, QStringLiteral("cannot open '%1': %2").arg(spec.database, why));
    }
};

} // namespace

const Dialect *sqliteDialect()
{
    static const SqliteDialect dialect;
    return &dialect;
}

} // namespace outbox::detail
