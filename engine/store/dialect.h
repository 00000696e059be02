// SPDX-License-Identifier: MIT
#pragma once

// Private: what differs between the databases the outbox runs on. Storage has one implementation
// (SqlStorage); the SQL text is kept in resource files (engine/store/sql/<dialect>/<name>.sql, falling back to
// engine/store/sql/common/<name>.sql), and whatever differs beyond the text is a hook of the dialect object chosen
// once, from the Qt driver's name, when a connection is opened. Adding a database is a new Dialect subclass,
// its SQL folder and one registration line in Dialect::forDriver().

#include "connectionspec.h"
#include "error.h"
#include "outboxevent.h"
#include "relaystore.h"
#include "storage.h"

#include <QAtomicInteger>
#include <QHash>
#include <QObject>
#include <QSqlDatabase>
#include <QStringList>
#include <QVariant>

#include <atomic>
#include <map>
#include <memory>

class QSqlError;
class QSqlQuery;

namespace outbox::detail {

class SqlConnection;
class Query;

// What a dialect keeps per connection (a prepared statement on the driver's own handle, a lock key).
class DialectState
{
public:
    virtual ~DialectState() = default;
};

class Dialect
{
public:
    virtual ~Dialect() = default;

    // The dialect of a Qt SQL driver; nullptr for a driver the outbox does not run on.
    static const Dialect *forDriver(const QString &driverName);
    // Every dialect the engine has (for tests that check each one's SQL).
    static QList<const Dialect *> all();
    // The dialect whose URLs have this scheme ("postgresql", "mariadb"); nullptr for none.
    static const Dialect *forScheme(const QString &scheme);

    // The folder of its SQL files, and the name users see: "sqlite", "postgresql".
    virtual QString name() const = 0;
    virtual QString driverName() const = 0;
    // Whether a connection of this Qt driver is this dialect's (MySQL's also takes QMARIADB).
    virtual bool runsOn(const QString &driver) const { return driver == driverName(); }
    virtual bool has(Storage::Capability capability) const = 0;
    // The database as a connection form names it ("PostgreSQL"), the port its server listens on by default
    // (-1: no server), the driver option that bounds how long connecting may take, in seconds (empty: none),
    // and the option that chooses whether and how TLS is used (PostgreSQL's sslmode; empty: none, TLS
    // follows from the certificate files given).
    virtual QString displayName() const = 0;
    virtual int defaultPort() const { return -1; }
    virtual QString connectTimeoutOption() const { return {}; }
    virtual QString tlsModeOption() const { return {}; }

    // Its URLs: the schemes that name this database (the first is the one written), a URL of one of them
    // read into a spec (`text` whole, scheme included; a clear error for a malformed one), and a spec written
    // as a URL with `password` in the password's place (empty: none).
    virtual QStringList urlSchemes() const = 0;
    virtual Result<ConnectionSpec> specFromUrl(const QString &text) const = 0;
    virtual QString urlOf(const ConnectionSpec &spec, const QString &password) const = 0;

    // A named statement: its file in this dialect's folder, else in the common one, with every {{name}} that
    // names another statement replaced by that statement's text (comment lines dropped). Tokens that name no
    // statement ({{where}}, {{types}}...) are left for the caller to fill. Empty when there is none.
    QString sql(const QString &name) const;
    // Every named statement this dialect has (its own and the common ones).
    QStringList statementNames() const;
    // The statements of the migration to schema `version` (migrate-N.sql: statements end with ';' and a blank
    // line); empty when that version changes nothing here.
    QStringList migration(int version) const;

    // The connection: driver options before open(), then the session's set-up (a time zone, lock timeouts).
    virtual void configure(QSqlDatabase &db, const ConnectionSpec &spec) const = 0;
    // `forWrites`: SQLite switches the file to WAL here (a write), so a database that is only probed is
    // opened without it and given it after the probe by prepareForWrites().
    virtual Error setUpSession(QSqlDatabase &db, const ConnectionSpec &spec, bool forWrites) const;
    virtual Error prepareForWrites(QSqlDatabase &db, const ConnectionSpec &spec) const;
    // Where the database is, in error messages: a file path or a URL without its password.
    virtual QString where(const ConnectionSpec &spec) const;
    // The error text of a failed open or statement, with what a user can do about it.
    virtual QString errorText(const QSqlError &error) const;
    // What an error means, as far as callers act on it: a duplicate primary or unique key (an event id
    // enqueued twice), a server that cannot be reached now (worth waiting for, unlike a wrong password or a
    // database that does not exist), or anything else. Only the dialect reads its database's codes and texts.
    enum class ErrorKind { Other, DuplicateKey, Unreachable };
    virtual ErrorKind classify(const QSqlError &error) const;
    // The error of a failed open or reconnect: Error::Network when the server cannot be reached, else
    // Error::Database, with where and why in one line.
    Error connectError(const ConnectionSpec &spec, const QSqlError &error) const;

    // Creates or brings the schema up to date on any connection, serialised against other processes.
    virtual Error migrate(QSqlDatabase &db) const = 0;

    // Values: a time to bind, and a time read back.
    virtual QVariant time(qint64 msSinceEpoch) const = 0;
    virtual QDateTime readTime(const QVariant &value) const;
    // A JSON array bound where {{id-list}} or {{sequence-list}} reads one (text, or UTF-8 bytes).
    virtual QVariant jsonParameter(const QByteArray &json) const;
    // The condition "e.type matches one of these globs" (for a route's claims), patterns inlined. The default
    // turns them into LIKE patterns for the statement type-matches; SQLite matches the globs themselves.
    virtual QString typeCondition(const QStringList &globs) const;
    // Text as an SQL string literal in this database.
    virtual QString stringLiteral(const QString &text) const { return sqlLiteral(text); }
    // Whether a kept statement reads its rows as it goes (forward only) rather than all at once on execution.
    virtual bool keptStatementsReadAsTheyGo() const { return true; }
    // How many times a statement on this thread found another connection holding the database's write lock
    // and waited for it (SQLite's busy handler); 0 where the database does not say (it locks rows instead).
    virtual qint64 lockWaits() const { return 0; }

    // The relayer's operations whose shape differs. The defaults run the named statements "claim" (one
    // UPDATE ... RETURNING), "complete-update" and "complete-history" (results as a JSON array of objects).
    virtual std::unique_ptr<DialectState> newState() const { return nullptr; }
    virtual Result<QList<OutboxEvent>> claim(
        SqlConnection &connection, const QString &owner, int limit, qint64 leaseMs, const QString &types) const;
    virtual Error complete(SqlConnection &connection, const QString &owner, const QList<DeliveryRecord> &records,
        QSet<qint64> *written) const;
    // SessionLocks: take (without waiting) or give up a relayer's lock on this session (the named statements
    // try-relayer-lock, release-relayer-lock, release-relayer-locks).
    virtual Result<bool> tryRelayerLock(SqlConnection &connection, qint64 key) const;
    virtual Error releaseRelayerLock(SqlConnection &connection, qint64 key) const;
    virtual Error releaseRelayerLocks(SqlConnection &connection) const;
    // Wakes relayers in other processes after an operator's write (Notify: the statement "notify"), inside
    // or outside a transaction.
    virtual Error wakeRelayers(SqlConnection &connection) const;

    // An application's connection. The statement that writes a new event whose payload has dataBytes bytes:
    // insert-event, unless the dialect has a cheaper one for that size.
    virtual QString insertStatement(qsizetype dataBytes) const
    {
        Q_UNUSED(dataBytes);
        return QStringLiteral("insert-event");
    }
    // Runs the prepared INSERT q for e with the database's own calls where the dialect can (SQLite: the
    // statement Qt prepared, bound and stepped without QSqlQuery's work per value; NotRun: run q through Qt).
    struct NativeInsert
    {
        enum class Outcome { NotRun, Written, Failed } outcome = Outcome::NotRun;
        QString why; // Failed: the database's error
        bool duplicate = false; // Failed: the id's unique key
    };
    virtual NativeInsert insertNatively(
        QSqlQuery &q, const OutboxEvent &e, qint64 createdMs, const QByteArray &extensions) const
    {
        Q_UNUSED(q);
        Q_UNUSED(e);
        Q_UNUSED(createdMs);
        Q_UNUSED(extensions);
        return {};
    }
    // An application's connection. Whether a transaction is known to be open on it (false: not, or cannot
    // tell); after an enqueue, wake this process's relayers when the row becomes visible.
    virtual bool inTransaction(const QSqlDatabase &db) const;
    virtual void afterEnqueue(const QSqlDatabase &db) const;
    // The first enqueue on this handle of an application's connection: SQLite waits for the write lock the
    // way our own connections do (see dialect_sqlite.cpp), keeping the application's busy timeout.
    virtual void adoptConnection(const QSqlDatabase &db) const;
    // An outbox whose schema is newer than this program's.
    static Error newerSchemaError(int current);

protected:
    // A server's URL (see urlOf): scheme, user, hosts and ports, database, and the connect options as URL
    // parameters (by urlParameterName; our default connect timeout left out).
    QString serverUrl(const ConnectionSpec &spec, const QString &password) const;
    virtual QString urlParameterName(const QString &option) const { return option; }

    Dialect() = default;
    // Applies migrations current+1 .. latest with q, inside the transaction the caller opened.
    Error applyMigrations(QSqlDatabase &db, int current) const;
    Error databaseError(const QString &what, const QSqlError &e) const;
    // Reads the sequences an executed `UPDATE … RETURNING seq` gave back into `written` (cleared first), to the
    // end, and finishes it. An error at its last step (on SQLite, for a statement of its own, its commit: a
    // full disk) is returned, and then nothing counts as written.
    Error readWritten(Query &update, QSet<qint64> *written) const;
    // A database server's connection: database, host, port, user, password and the driver's options.
    static void configureServer(QSqlDatabase &db, const ConnectionSpec &spec, const QString &options);
    // Text as an SQL string literal (quotes doubled).
    static QString sqlLiteral(QString text);
    // A route's type pattern ('*' any run of characters, every other character itself, on every database) as
    // a LIKE pattern with backslash escapes, and as a pattern for SQLite's GLOB.
    static QString globToLike(const QString &glob);
    static QString globToSqliteGlob(const QString &glob);
    // The statement type-matches with {{patterns}} filled: the patterns as a JSON array in a string literal.
    QString patternCondition(const QStringList &patterns) const;

private:
    const QHash<QString, QString> &statements() const;
    mutable QHash<QString, QString> m_statements; // loaded once, on first use
    mutable std::atomic<bool> m_loaded{false};
};

// What the engine keeps per application connection: the prepared INSERT (re-preparing it on every enqueue
// cost more than the insert itself) and which database's schema was checked. It is a child of the
// connection's driver, so it goes when the connection goes; the driver finalises the statement on close().
class ConnectionCache : public QObject
{
public:
    static ConnectionCache *of(const QSqlDatabase &db);

    QString checkedDatabase;
    // The prepared INSERTs by statement name (Dialect::insertStatement: SQLite has two).
    std::map<QString, std::unique_ptr<QSqlQuery>> inserts;
    void *insertHandle = nullptr; // the driver's connection handle the INSERTs were prepared on
    // Whether the transaction open now has enqueued an event: only such a commit wakes relayers.
    QAtomicInteger<int> enqueuedInTransaction = 0;
    int busyTimeoutMs = 0; // SQLite: the application's busy timeout, kept by our busy handler
};
// The driver's own connection handle (sqlite3*, PGconn*...), or nullptr.
void *nativeHandle(const QSqlDatabase &db);

// A time read back as Unix milliseconds or a timestamp, in UTC; for callers without a dialect at hand.
qint64 toMs(const QDateTime &t);
qint64 nowMs();
QVariant textOrNull(const QString &s);
// The results of a batch as one JSON array: objects {s, t, o, w, n, a, h, e, d} or arrays by position
// (see the SQLite dialect), `deliveredOnly` the short form [seq, http status, duration].
QByteArray deliveryJson(const QList<DeliveryRecord> &records, bool objects, bool deliveredOnly);
// Whether every result is a delivery (its write-back needs no history of attempts and is one statement).
bool allDelivered(const QList<DeliveryRecord> &records);
// Whether every result is a delivery at the same time with the same answer (HTTP status, none alike) and
// duration: a batch sent in one request, whose write-back can bind its values once.
bool deliveredWithOneAnswer(const QList<DeliveryRecord> &records);
// The records' sequences as a list between `open` and `close`: "[1,2]" (JSON), "{1,2}" (a PostgreSQL array).
QByteArray sequenceList(const QList<DeliveryRecord> &records, char open, char close);
OutboxEvent eventFromQuery(const class QSqlQuery &q, const Dialect &dialect);
QList<OutboxEvent> inSequenceOrder(QList<OutboxEvent> events);

} // namespace outbox::detail
