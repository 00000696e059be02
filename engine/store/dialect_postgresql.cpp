// SPDX-License-Identifier: MIT
// PostgreSQL: for outboxes shared by several hosts. Times are TIMESTAMPTZ in UTC and the server's clock decides
// leases; an enqueue NOTIFYs relayers when its transaction commits; a relayer's liveness is a session advisory
// lock; statements give up on a lock after a bounded wait.
#include "dialect.h"
#include "sqlconnection.h"
#include "sqlstorage.h"

#include <QUrl>
#include <QUrlQuery>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSqlError>
#include <QSqlQuery>

namespace outbox::detail {

namespace {

constexpr int kLockTimeoutSeconds = 10; // the longest our statements wait for a lock

// postgresql://user:password@host:port/database?libpq-parameters, and libpq's multi-host form.
// (Long: the URL form libpq documents, part by part: hosts, ports, database, parameters.)
Result<ConnectionSpec> postgresqlSpecFromUrl(const QString &text)
{
    // libpq's multi-host form, postgresql://user@h1:5432,h2:5433/db: QUrl reads one host, so the list is
    // taken apart here and QUrl reads the rest with the first host in its place.
    QStringList hosts, ports;
    QString single = text;
    const qsizetype authorityStart = text.indexOf(QStringLiteral("://"));
    if (authorityStart > 0) {
        const qsizetype from = authorityStart + 3;
        qsizetype end = text.indexOf(QLatin1Char('/'), from);
        for (QChar stop : {QLatin1Char('?'), QLatin1Char('#')}) {
            const qsizetype at = text.indexOf(stop, from);
            if (at >= 0 && (end < 0 || at < end))
                end = at;
        }
        if (end < 0)
            end = text.size();
        const QString authority = text.mid(from, end - from);
        const qsizetype at = authority.lastIndexOf(QLatin1Char('@'));
        const QString hostList = authority.mid(at + 1);
        if (hostList.contains(QLatin1Char(','))) {
            for (const QString &entry : hostList.split(QLatin1Char(','))) {
                const QUrl one(QStringLiteral("postgresql://") + entry, QUrl::StrictMode);
                if (entry.isEmpty() || !one.isValid() || one.host().isEmpty() || !one.userInfo().isEmpty()
                    || !one.path().isEmpty())
                    return Error(Error::InvalidArgument,
                        QStringLiteral("malformed PostgreSQL URL: '%1' in the host list is not host[:port]; use "
                                       "postgresql://user@host1:port1,host2:port2/database")
                            .arg(entry.left(80)));
                hosts << one.host(); // an IPv6 address without its brackets, as libpq takes it
                ports << QString::number(one.port(5432));
            }
            single =
                text.left(from) + authority.left(at + 1) + hostList.section(QLatin1Char(','), 0, 0) + text.mid(end);
        }
    }
    const QUrl parsed(single, QUrl::StrictMode);
    if (!parsed.isValid() || parsed.host().isEmpty())
        return Error(Error::InvalidArgument,
            QStringLiteral("malformed PostgreSQL URL: use postgresql://user:password@host:port/database"));
    ConnectionSpec spec;
    spec.driver = QStringLiteral("QPSQL");
    spec.host = parsed.host();
    spec.port = parsed.port(5432);
    if (!hosts.isEmpty()) { // libpq tries them in order (target_session_attrs picks among them)
        spec.host = hosts.join(QLatin1Char(','));
        spec.port = -1;
    }
    spec.user = parsed.userName();
    spec.password = parsed.password();
    spec.database = parsed.path().mid(1);
    if (spec.database.isEmpty())
        return Error(Error::InvalidArgument, QStringLiteral("malformed PostgreSQL URL: no database name"));
    // libpq's connection parameters in the query (?sslmode=require&connect_timeout=10) are honoured, never
    // dropped: a user who asks for TLS must get it. Unknown ones are refused.
    static const QStringList known = {QStringLiteral("sslmode"), QStringLiteral("sslrootcert"),
        QStringLiteral("sslcert"), QStringLiteral("sslkey"), QStringLiteral("connect_timeout"),
        QStringLiteral("application_name"), QStringLiteral("options"), QStringLiteral("target_session_attrs"),
        QStringLiteral("keepalives"), QStringLiteral("keepalives_idle")};
    QStringList options;
    bool timeout = false;
    for (const auto &[key, value] : QUrlQuery(parsed).queryItems(QUrl::FullyDecoded)) {
        if (!known.contains(key))
            return Error(Error::InvalidArgument,
                QStringLiteral("unknown PostgreSQL URL parameter '%1': use %2")
                    .arg(key.left(40), known.join(QStringLiteral(", "))));
        if (value.contains(QLatin1Char(';')))
            return Error(Error::InvalidArgument,
                QStringLiteral("the PostgreSQL URL parameter '%1' must not contain ';'").arg(key));
        QString quoted = value;
        quoted.replace(QLatin1Char('\\'), QStringLiteral("\\\\")).replace(QLatin1Char('\''), QStringLiteral("\\'"));
        options << QStringLiteral("%1='%2'").arg(key, quoted);
        timeout = timeout || key == QLatin1String("connect_timeout");
    }
    if (!timeout)
        options.prepend(QStringLiteral("connect_timeout=5"));
    if (!ports.isEmpty()) // one port for each host, in libpq's list form
        options.prepend(QStringLiteral("port='%1'").arg(ports.join(QLatin1Char(','))));
    spec.options = options.join(QLatin1Char(';'));
    return spec;
}

class PostgresqlDialect final : public Dialect
{
public:
    QString name() const override { return QStringLiteral("postgresql"); }
    QString driverName() const override { return QStringLiteral("QPSQL"); }
    QStringList urlSchemes() const override { return {QStringLiteral("postgresql"), QStringLiteral("postgres")}; }
    Result<ConnectionSpec> specFromUrl(const QString &text) const override { return postgresqlSpecFromUrl(text); }
    QString urlOf(const ConnectionSpec &spec, const QString &password) const override
    {
        return serverUrl(spec, password);
    }
    QString displayName() const override { return QStringLiteral("PostgreSQL"); }
    int defaultPort() const override { return 5432; }
    QString connectTimeoutOption() const override { return QStringLiteral("connect_timeout"); }
    QString tlsModeOption() const override { return QStringLiteral("sslmode"); }
    bool has(Storage::Capability c) const override
    {
        switch (c) {
        case Storage::Capability::ServerConnection:
        case Storage::Capability::Notify:
        case Storage::Capability::SessionLocks:
        case Storage::Capability::ServerUptime:
            return true;
        case Storage::Capability::LocalFile:
        case Storage::Capability::ChangeCounter:
        default: // the format's capabilities are the storage's to tell
            return false;
        }
        return false;
    }

    void configure(QSqlDatabase &db, const ConnectionSpec &spec) const override
    {
        configureServer(db, spec, spec.options.isEmpty() ? QStringLiteral("connect_timeout=5") : spec.options);
    }

    Error setUpSession(QSqlDatabase &db, const ConnectionSpec &spec, bool) const override
    {
        QSqlQuery q(db);
        q.exec(QStringLiteral("SET TIME ZONE 'UTC'"));
        // A lock someone holds on the outbox (a LOCK TABLE, a long DDL) must not hang every command, the
        // relayer's stop and /healthz: our statements give up after a bounded wait and say why. The user's
        // own setting (options=-c lock_timeout=...) wins.
        if (!spec.options.contains(QLatin1String("lock_timeout")))
            q.exec(QStringLiteral("SET lock_timeout = '%1s'").arg(kLockTimeoutSeconds));
        return {};
    }

    // Kept statements (Query::Reuse::Kept) are read in full on execution. Forward only, Qt's driver reads rows
    // one at a time (libpq's single-row mode), and a kept statement is not cleaned up after its last row: the
    // connection stayed in the middle of a result, and an idle relayer heard no NOTIFY until it next ran some
    // other statement (commit to delivery p50 228 ms, where it is 1 ms read in full). A relayer's results are
    // a batch at most.
    bool keptStatementsReadAsTheyGo() const override { return false; }

    QString errorText(const QSqlError &e) const override
    {
        QString text = Dialect::errorText(e);
        if (text.contains(QLatin1String("lock timeout")))
            text += QStringLiteral(
                " (another session held a lock on the outbox for more than %1 s; pg_stat_activity names it)")
                        .arg(kLockTimeoutSeconds);
        return text;
    }

    ErrorKind classify(const QSqlError &e) const override
    {
        if (e.nativeErrorCode() == QLatin1String("23505")) // unique_violation
            return ErrorKind::DuplicateKey;
        // libpq gives no SQLSTATE for a failed connection, only its message: a wrong password, an unknown
        // role or database are final; anything else (refused, no route, a timeout, a server starting or
        // shutting down) may pass.
        if (e.type() == QSqlError::ConnectionError) {
            const QString text = errorText(e);
            for (const char *final : {"password", "authentication failed", "does not exist", "no pg_hba.conf entry"}) {
                if (text.contains(QLatin1String(final)))
                    return ErrorKind::Other;
            }
            return ErrorKind::Unreachable;
        }
        return ErrorKind::Other;
    }

    Error migrate(QSqlDatabase &db) const override
    {
        QSqlQuery q(db);
        if (!q.exec(sql(QStringLiteral("schema-exists"))) || !q.next())
            return databaseError(QStringLiteral("cannot read the outbox schema"), q.lastError());
        if (q.value(0).toBool()) {
            q.exec(sql(QStringLiteral("schema-version")));
            if (q.next() && q.value(0).toInt() == Storage::schemaVersion())
                return {};
        }
        q.finish();
        if (!db.transaction())
            return databaseError(QStringLiteral("cannot migrate the outbox schema"), db.lastError());
        auto rollback = [&db](const Error &e) {
            db.rollback();
            return e;
        };
        if (!q.exec(sql(QStringLiteral("migration-lock"))))
            return rollback(databaseError(QStringLiteral("cannot lock the outbox schema"), q.lastError()));
        if (!q.exec(sql(QStringLiteral("schema-table"))))
            return rollback(databaseError(QStringLiteral("cannot create the outbox schema"), q.lastError()));
        if (!q.exec(sql(QStringLiteral("schema-version"))) || !q.next())
            return rollback(databaseError(QStringLiteral("cannot read the outbox schema version"), q.lastError()));
        const int current = q.value(0).toInt();
        q.finish();
        if (current > Storage::schemaVersion())
            return rollback(newerSchemaError(current));
        if (Error e = applyMigrations(db, current))
            return rollback(e);
        if (!db.commit())
            return databaseError(QStringLiteral("cannot commit the outbox schema"), db.lastError());
        return {};
    }

    QVariant time(qint64 ms) const override { return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC); }
};

} // namespace

const Dialect *postgresqlDialect()
{
    static const PostgresqlDialect dialect;
    return &dialect;
}

} // namespace outbox::detail
