// SPDX-License-Identifier: MIT
// PostgreSQL: for outboxes shared by several hosts. Times are TIMESTAMPTZ in UTC and the server's clock decides
// leases; an enqueue NOTIFYs relayers when its transaction commits; a relayer's liveness is a session advisory
// lock; statements give up on a lock after a bounded wait.
#include "dialect.h"
#include "sqlstorage.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QSqlError>
#include <QSqlQuery>

namespace outbox::detail {

namespace {

constexpr int kLockTimeoutSeconds = 10; // the longest our statements wait for a lock

class PostgresqlDialect final : public Dialect
{
public:
    QString name() const override { return QStringLiteral("postgresql"); }
    QString driverName() const override { return QStringLiteral("QPSQL"); }
    QString displayName() const override { return QStringLiteral("PostgreSQL"); }
    ConnectionSpec::Backend backend() const override { return ConnectionSpec::Backend::Postgresql; }
    int defaultPort() const override { return 5432; }
    QString connectTimeoutOption() const override { return QStringLiteral("connect_timeout"); }
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
