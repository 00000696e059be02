// SPDX-License-Identifier: MIT
// MySQL and MariaDB (Qt's QMYSQL driver). Times are DATETIME(3) in UTC (the session's time zone) and the
// server's clock decides leases. There is no UPDATE ... RETURNING, so the claim and the write-back take a
// few statements in one transaction: the candidates are read, locked with FOR UPDATE SKIP LOCKED, leased and
// read back. A relayer's liveness is a named lock (GET_LOCK) its session holds. There is no notification
// mechanism: relayers in other processes find new events by polling (RelayerConfig::pollIntervalMs).
#include "dialect.h"
#include "sqlstorage.h"
#include "wakeevent.h"

#include <QFileInfo>
#include <QHash>
#include <QUrl>
#include <QUrlQuery>
#include "configfiles.h"
#include <QJsonArray>
#include <QJsonDocument>
#include <QSqlError>
#include <QSqlQuery>

namespace outbox::detail {

namespace {

constexpr int kLockTimeoutSeconds = 10; // the longest our statements wait for a row lock

// mysql://user:password@host:port/database?parameters (mariadb: alike), the parameters by their URL names.
Result<ConnectionSpec> mysqlSpecFromUrl(const QString &text)
{
    const QUrl parsed(text, QUrl::StrictMode);
    if (!parsed.isValid() || parsed.host().isEmpty())
        return Error(Error::InvalidArgument,
            QStringLiteral("malformed MySQL/MariaDB URL: use mysql://user:password@host:port/database"));
    ConnectionSpec spec;
    spec.driver = QStringLiteral("QMYSQL");
    spec.host = parsed.host();
    spec.port = parsed.port(3306);
    spec.user = parsed.userName();
    spec.password = parsed.password();
    spec.database = parsed.path().mid(1);
    if (spec.database.isEmpty())
        return Error(Error::InvalidArgument, QStringLiteral("malformed MySQL/MariaDB URL: no database name"));
    // Qt's MySQL driver options, by their URL names. TLS and timeouts the user asks for are honoured;
    // unknown parameters are refused.
    static const QList<QPair<QString, QString>> known = {
        {QStringLiteral("connect_timeout"), QStringLiteral("MYSQL_OPT_CONNECT_TIMEOUT")},
        {QStringLiteral("read_timeout"), QStringLiteral("MYSQL_OPT_READ_TIMEOUT")},
        {QStringLiteral("write_timeout"), QStringLiteral("MYSQL_OPT_WRITE_TIMEOUT")},
        {QStringLiteral("ssl_ca"), QStringLiteral("SSL_CA")},
        {QStringLiteral("ssl_cert"), QStringLiteral("SSL_CERT")},
        {QStringLiteral("ssl_key"), QStringLiteral("SSL_KEY")},
        {QStringLiteral("unix_socket"), QStringLiteral("UNIX_SOCKET")},
    };
    QStringList options;
    bool timeout = false;
    for (const auto &item : QUrlQuery(parsed).queryItems(QUrl::FullyDecoded)) {
        const QString &key = item.first;
        const QString &value = item.second;
        const auto it = std::find_if(known.begin(), known.end(), [&](const auto &k) { return k.first == key; });
        if (it == known.end()) {
            QStringList names;
            for (const auto &k : known)
                names << k.first;
            return Error(Error::InvalidArgument,
                QStringLiteral("unknown MySQL/MariaDB URL parameter '%1': use %2")
                    .arg(key.left(40), names.join(QStringLiteral(", "))));
        }
        if (value.contains(QLatin1Char(';')))
            return Error(Error::InvalidArgument,
                QStringLiteral("the MySQL/MariaDB URL parameter '%1' must not contain ';'").arg(key));
        // A TLS file that cannot be read must not quietly become a connection without it.
        if (key.startsWith(QLatin1String("ssl_"))) {
            if (!QFileInfo(value).isFile() || !QFileInfo(value).isReadable())
                return Error(Error::InvalidArgument,
                    QStringLiteral("the %1 file '%2' of the MySQL/MariaDB URL cannot be read").arg(key, value));
            if (key == QLatin1String("ssl_key"))
                if (const QString problem = secretFileProblem(value, QStringLiteral("ssl_key file"));
                    !problem.isEmpty())
                    return Error(Error::InvalidArgument, problem);
        }
        options << QStringLiteral("%1=%2").arg(it->second, value);
        timeout = timeout || key == QLatin1String("connect_timeout");
    }
    if (!timeout)
        options.prepend(QStringLiteral("MYSQL_OPT_CONNECT_TIMEOUT=5"));
    spec.options = options.join(QLatin1Char(';'));
    return spec;
}

// Per connection: how many more claims read the wide window (MysqlDialect::claim).
class MysqlState final : public DialectState
{
public:
    int contendedClaims = 0;
};

class MysqlDialect final : public Dialect
{
public:
    QString name() const override { return QStringLiteral("mysql"); }
    QString driverName() const override { return QStringLiteral("QMYSQL"); }
    bool runsOn(const QString &driver) const override
    {
        return driver == driverName() || driver == QLatin1String("QMARIADB");
    }
    QStringList urlSchemes() const override { return {QStringLiteral("mysql"), QStringLiteral("mariadb")}; }
    Result<ConnectionSpec> specFromUrl(const QString &text) const override { return mysqlSpecFromUrl(text); }
    QString urlOf(const ConnectionSpec &spec, const QString &password) const override
    {
        return serverUrl(spec, password);
    }
    QString urlParameterName(const QString &option) const override
    {
        static const QHash<QString, QString> names = {
            {QStringLiteral("MYSQL_OPT_CONNECT_TIMEOUT"), QStringLiteral("connect_timeout")},
            {QStringLiteral("MYSQL_OPT_READ_TIMEOUT"), QStringLiteral("read_timeout")},
            {QStringLiteral("MYSQL_OPT_WRITE_TIMEOUT"), QStringLiteral("write_timeout")},
            {QStringLiteral("SSL_CA"), QStringLiteral("ssl_ca")},
            {QStringLiteral("SSL_CERT"), QStringLiteral("ssl_cert")},
            {QStringLiteral("SSL_KEY"), QStringLiteral("ssl_key")},
            {QStringLiteral("UNIX_SOCKET"), QStringLiteral("unix_socket")}};
        return names.value(option, option);
    }
    QString displayName() const override { return QStringLiteral("MySQL / MariaDB"); }
    int defaultPort() const override { return 3306; }
    QString connectTimeoutOption() const override { return QStringLiteral("MYSQL_OPT_CONNECT_TIMEOUT"); }
    bool has(Storage::Capability c) const override
    {
        switch (c) {
        case Storage::Capability::ServerConnection:
        case Storage::Capability::SessionLocks:
        case Storage::Capability::ServerUptime:
            return true;
        case Storage::Capability::LocalFile:
        case Storage::Capability::Notify:
        case Storage::Capability::ChangeCounter:
        default: // the format's capabilities are the storage's to tell
            return false;
        }
        return false;
    }

    void configure(QSqlDatabase &db, const ConnectionSpec &spec) const override
    {
        // Rows matched, not rows changed, in numRowsAffected(): a retry of a row counts once either way.
        const QString options = spec.options.isEmpty() ? QStringLiteral("MYSQL_OPT_CONNECT_TIMEOUT=5") : spec.options;
        configureServer(db, spec, options + QStringLiteral(";CLIENT_FOUND_ROWS"));
    }

    Error setUpSession(QSqlDatabase &db, const ConnectionSpec &spec, bool) const override
    {
        QSqlQuery q(db);
        // TLS parameters in the URL mean TLS is required. Qt's driver (6.4) cannot ask the client library to
        // insist, and MariaDB's Connector/C falls back to plain text when the server offers no TLS: so the
        // session is checked, and a plain one refused. (A server that offers TLS is verified against ssl_ca.)
        if (spec.options.contains(QLatin1String("SSL_"))) {
            if (!q.exec(QStringLiteral("SHOW SESSION STATUS LIKE 'Ssl_version'")))
                return databaseError(QStringLiteral("cannot check the connection's TLS"), q.lastError());
            const QString version = q.next() ? q.value(1).toString() : QString();
            q.finish();
            if (version.isEmpty()) {
                db.close();
                return Error(Error::Database,
                    QStringLiteral("cannot connect to %1: the server does not offer TLS, which the URL asks for "
                                   "(ssl_ca, ssl_cert); refusing to go on in plain text")
                        .arg(where(spec)));
            }
        }
        // UTC, so NOW(3) and the times bound agree with every other host; read committed, so the claim's
        // second look sees what other relayers committed since its first; a bounded wait for row and table locks.
        for (const QString &sql : {QStringLiteral("SET time_zone = '+00:00'"),
                 QStringLiteral("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED"),
                 QStringLiteral("SET SESSION innodb_lock_wait_timeout = %1").arg(kLockTimeoutSeconds),
                 QStringLiteral("SET SESSION lock_wait_timeout = %1").arg(kLockTimeoutSeconds)}) {
            if (!q.exec(sql))
                return databaseError(QStringLiteral("cannot set up the session"), q.lastError());
        }
        return {};
    }

    ErrorKind classify(const QSqlError &e) const override
    {
        const int code = e.nativeErrorCode().toInt();
        if (code == 1062) // ER_DUP_ENTRY
            return ErrorKind::DuplicateKey;
        // The client's connection errors: can't connect (local socket, TCP), unknown host, gone away, lost.
        if (code == 2002 || code == 2003 || code == 2005 || code == 2006 || code == 2013)
            return ErrorKind::Unreachable;
        return ErrorKind::Other;
    }

    QString errorText(const QSqlError &e) const override
    {
        QString text = Dialect::errorText(e);
        if (text.contains(QLatin1String("Lock wait timeout")))
            text += QStringLiteral(
                " (another session held a lock on the outbox for more than %1 s; SHOW PROCESSLIST names it)")
                        .arg(kLockTimeoutSeconds);
        if (text.contains(QLatin1String("gone away")))
            text += QStringLiteral(" (the connection was lost, or a statement was larger than the server's "
                                   "max_allowed_packet)");
        return text;
    }

    // CREATE TABLE commits the transaction open on the connection, so the schema is never created inside a
    // caller's transaction: that is refused, with what to do instead.
    Error migrate(QSqlDatabase &db) const override
    {
        QSqlQuery q(db);
        if (!q.exec(sql(QStringLiteral("schema-exists"))) || !q.next())
            return databaseError(QStringLiteral("cannot read the outbox schema"), q.lastError());
        if (q.value(0).toInt() > 0) {
            q.exec(sql(QStringLiteral("schema-version")));
            if (q.next()) {
                const int current = q.value(0).toInt();
                if (current == Storage::schemaVersion())
                    return {};
                if (current > Storage::schemaVersion())
                    return newerSchemaError(current);
            }
        }
        q.finish();
        if (openTransaction(db))
            return Error(Error::InvalidArgument,
                QStringLiteral("the outbox schema must be created or updated outside a transaction on MySQL/MariaDB "
                               "(CREATE TABLE would commit yours): open the outbox once before (outboxctl init)"));
        if (!q.exec(sql(QStringLiteral("migration-lock"))) || !q.next() || q.value(0).toInt() != 1)
            return databaseError(QStringLiteral("cannot lock the outbox schema"), q.lastError());
        q.finish();
        auto unlock = [&](const Error &e) {
            QSqlQuery u(db);
            u.exec(sql(QStringLiteral("migration-unlock")));
            return e;
        };
        if (!q.exec(sql(QStringLiteral("schema-table"))))
            return unlock(databaseError(QStringLiteral("cannot create the outbox schema"), q.lastError()));
        if (!q.exec(sql(QStringLiteral("schema-version"))) || !q.next())
            return unlock(databaseError(QStringLiteral("cannot read the outbox schema version"), q.lastError()));
        const int current = q.value(0).toInt();
        q.finish();
        if (current > Storage::schemaVersion())
            return unlock(newerSchemaError(current));
        // Each statement commits on its own; the lock keeps other processes out, and every step can run again
        // (IF NOT EXISTS) should one fail half-way.
        return unlock(applyMigrations(db, current));
    }

    QVariant time(qint64 ms) const override
    {
        return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss.zzz"));
    }
    QDateTime readTime(const QVariant &v) const override
    {
        if (v.isNull())
            return QDateTime();
        if (v.metaType().id() == QMetaType::LongLong || v.metaType().id() == QMetaType::Int)
            return QDateTime::fromMSecsSinceEpoch(v.toLongLong(), Qt::UTC); // ms-*.sql
        // The driver hands DATETIME back without a zone; the session's zone is UTC.
        const QDateTime t = v.metaType().id() == QMetaType::QDateTime
            ? v.toDateTime()
            : QDateTime::fromString(v.toString(), Qt::ISODateWithMs);
        return QDateTime(t.date(), t.time(), Qt::UTC);
    }

    // A backslash escapes in MySQL string literals (and in LIKE patterns): doubled once more here.
    QString stringLiteral(const QString &text) const override
    {
        return sqlLiteral(text).replace(QLatin1String("\\"), QLatin1String("\\\\"));
    }

    // While others claim beside it, a claim reads kClaimWindow batches' worth of candidates; it tries
    // kClaimRounds times to lock some; a claim that met locked rows keeps the window wide for the next
    // kContendedMemory claims (see claim()).
    static constexpr int kClaimWindow = 4;
    static constexpr int kClaimRounds = 3;
    static constexpr int kContendedMemory = 16;
    std::unique_ptr<DialectState> newState() const override { return std::make_unique<MysqlState>(); }

    // The relayer's statements of fixed text (the claim's candidates, the write-back) are kept; those with the
    // batch's sequences inlined go as text, unprepared: one round trip each instead of two (prepare, execute).
    // 16 round trips per batch became 10.
    Result<QList<OutboxEvent>> claim(
        SqlConnection &connection, const QString &owner, int limit, qint64 leaseMs, const QString &types) const override
    {
        const QString what = QStringLiteral("cannot claim events");
        QList<OutboxEvent> events;
        Error error = connection.inWriteTransaction(what, [&]() -> Error {
            // The candidates are read without locks, so relayers claiming at the same moment read the same
            // ones, and all but one found every candidate locked: their claim came back empty, and a drain
            // ended there with thousands of events due (3 of 4 relayers stopped within 0.1 s). So the lock
            // takes `limit` of the rows no one else holds, a claim that found candidates but could lock none
            // reads them again (each read sees what the others have committed since: read committed), and
            // while others claim beside this relayer (its last claims met locked rows) the read takes a window
            // of kClaimWindow batches. Alone, a relayer reads one batch's worth: the wide window cost it 10 %.
            auto *state = static_cast<MysqlState *>(connection.dialectState());
            QList<qint64> locked;
            for (int round = 0; round < kClaimRounds && locked.isEmpty(); ++round) {
                const bool wide = round > 0 || (state && state->contendedClaims > 0);
                Query candidates(connection,
                    sql(QStringLiteral("claim-candidates")).replace(QLatin1String("{{types}}"), types),
                    Query::Reuse::Kept);
                candidates.bind(wide ? limit * kClaimWindow : limit);
                if (Error e = candidates.exec(what))
                    return e;
                QList<qint64> seqs;
                while (candidates.q().next())
                    seqs.append(candidates.q().value(0).toLongLong());
                if (seqs.isEmpty())
                    return Error();
                Query lock(connection, withValues(withSequences(sql(QStringLiteral("claim-lock")), seqs).sql, {limit}),
                    Query::Reuse::Text);
                if (Error e = lock.exec(what))
                    return e;
                while (lock.q().next())
                    locked.append(lock.q().value(0).toLongLong());
                // Fewer locked than there were candidates for: another relayer holds some of them.
                if (state) {
                    if (locked.size() < qMin<qsizetype>(limit, seqs.size()))
                        state->contendedClaims = kContendedMemory;
                    else if (state->contendedClaims > 0)
                        --state->contendedClaims;
                }
            }
            if (locked.isEmpty())
                return Error();
            Query lease(connection,
                withValues(withSequences(sql(QStringLiteral("claim-lease")), locked).sql, {owner, leaseMs, leaseMs}),
                Query::Reuse::Text);
            if (Error e = lease.exec(what))
                return e;
            Query read(connection,
                withSequences(sql(QStringLiteral("events-by-sequence"))
                                  .replace(QLatin1String("{{columns}}"), sql(QStringLiteral("event-columns"))),
                    locked)
                    .sql,
                Query::Reuse::Text);
            if (Error e = read.exec(what))
                return e;
            while (read.q().next())
                events.append(eventFromQuery(read.q(), *this));
            return Error();
        });
        if (error)
            return error;
        return inSequenceOrder(std::move(events));
    }

    Error complete(SqlConnection &connection, const QString &owner, const QList<DeliveryRecord> &records,
        QSet<qint64> *written) const override
    {
        const QString json = QString::fromUtf8(deliveryJson(records, true, false));
        QList<qint64> seqs;
        for (const DeliveryRecord &r : records)
            seqs.append(r.sequence);
        if (allDelivered(records)) {
            // One statement, atomic by itself: no transaction, no read of the rows held first (three round trips
            // fewer). The rows matched are the rows written (CLIENT_FOUND_ROWS); only when some were not (leases
            // taken over) does a second statement ask which, by what was written into them. A batch with one
            // answer (one request) binds its values once (complete-delivered-same.sql says why).
            std::optional<Query> update;
            if (deliveredWithOneAnswer(records)) {
                const DeliveryRecord &first = records.first();
                const qint64 attempted = toMs(first.attemptedAt);
                QString text = withSequences(sql(QStringLiteral("complete-delivered-same")), seqs).sql;
                const QVariant status = first.httpStatus > 0 ? QVariant(first.httpStatus) : QVariant();
                text = withValues(text, {attempted, status, attempted, first.durationMs, owner, owner});
                update.emplace(connection, text, Query::Reuse::Text);
            } else {
                update.emplace(connection, sql(QStringLiteral("complete-update")), Query::Reuse::Kept);
                update->bind(json).bind(owner).bind(owner);
            }
            if (Error e = update->exec(QStringLiteral("cannot write delivery results")))
                return e;
            const int matched = update->q().numRowsAffected();
            if (!written)
                return Error();
            if (matched == int(seqs.size())) {
                *written = QSet<qint64>(seqs.cbegin(), seqs.cend());
                return Error();
            }
            Query mine(connection,
                withValues(withSequences(sql(QStringLiteral("complete-written")), seqs).sql, {owner}),
                Query::Reuse::Text);
            if (Error e = mine.exec(QStringLiteral("cannot read which delivery results were written")))
                return e;
            written->clear();
            while (mine.q().next())
                written->insert(mine.q().value(0).toLongLong());
            return Error();
        }
        return connection.inWriteTransaction(QStringLiteral("cannot write delivery results"), [&]() -> Error {
            // The rows this owner still holds, locked: only they are written, and the caller learns which.
            Query held(connection, withValues(withSequences(sql(QStringLiteral("complete-held")), seqs).sql, {owner}),
                Query::Reuse::Text);
            if (Error e = held.exec(QStringLiteral("cannot write delivery results")))
                return e;
            QSet<qint64> mine;
            while (held.q().next())
                mine.insert(held.q().value(0).toLongLong());
            if (written)
                *written = mine;
            if (mine.isEmpty())
                return Error();
            Query history(connection, sql(QStringLiteral("complete-history")), Query::Reuse::Kept);
            history.bind(owner).bind(json).bind(owner);
            if (Error e = history.exec(QStringLiteral("cannot record delivery attempts")))
                return e;
            Query update(connection, sql(QStringLiteral("complete-update")), Query::Reuse::Kept);
            update.bind(json).bind(owner).bind(owner);
            return update.exec(QStringLiteral("cannot write delivery results"));
        });
    }

    // The statement's placeholders (`?`, none inside its string literals) replaced by these values as literals
    // (a null value as NULL): for a statement sent as text, whose sequences are inlined anyway.
    QString withValues(const QString &statement, const QVariantList &values) const
    {
        QString out;
        qsizetype next = 0;
        for (const QChar c : statement) {
            if (c != QLatin1Char('?') || next >= values.size()) {
                out += c;
                continue;
            }
            const QVariant &v = values.at(next++);
            out += v.isNull()                      ? QStringLiteral("NULL")
                : v.typeId() == QMetaType::QString ? stringLiteral(v.toString())
                                                   : QString::number(v.toLongLong());
        }
        return out;
    }

    // Whether a transaction is open on the connection (a round trip: asked only before creating the schema).
    bool openTransaction(const QSqlDatabase &db) const
    {
        QSqlQuery q(db);
        return q.exec(sql(QStringLiteral("in-transaction"))) && q.next() && q.value(0).toInt() == 1;
    }
    // Relayers in this process look at once (a transaction not yet committed costs them one empty claim);
    // other processes poll.
    void afterEnqueue(const QSqlDatabase &) const override { WakeEvent::raise(); }
};

} // namespace

const Dialect *mysqlDialect()
{
    static const MysqlDialect dialect;
    return &dialect;
}

} // namespace outbox::detail
