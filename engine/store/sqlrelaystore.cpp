// SPDX-License-Identifier: MIT
// The relayer's side of SqlStorage: claims, write-back, leases, relayer registration and take-over.
#include "sqlstorage.h"

#include "relaystore.h"

#include "processinfo.h"

#include <QCoreApplication>
#include <QHostInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QSqlQuery>

namespace outbox::detail {

SqlRelayStore::SqlRelayStore(SqlConnection &connection) : m_connection(&connection), m_dialect(connection.dialect()) { }

RelayStore *relayStoreOf(Storage &storage)
{
    auto *ours = dynamic_cast<SqlStorage *>(&storage);
    return ours ? &ours->relayStore() : nullptr;
}

Result<RelayStore *> requireRelayStore(Storage &storage)
{
    if (RelayStore *relay = relayStoreOf(storage))
        return relay;
    return Error(Error::Unsupported, storage.relayRefusal());
}

void SqlRelayStore::setClaimTypes(const QStringList &include, const QStringList &exclude)
{
    m_claimInclude = include;
    m_claimExclude = exclude;
    // The type condition of a route's claims, its patterns inlined as string literals (they come from the
    // relayer's configuration, and are quoted like any SQL string).
    m_claimTypes.clear();
    if (!include.isEmpty())
        m_claimTypes += QStringLiteral(" AND ") + m_dialect.typeCondition(include);
    if (!exclude.isEmpty())
        m_claimTypes += QStringLiteral(" AND NOT ") + m_dialect.typeCondition(exclude);
    m_connection->resetDialectState(); // a kept claim is prepared again with the condition
}

Result<QList<OutboxEvent>> SqlRelayStore::claim(const QString &owner, int limit, qint64 leaseMs)
{
    return m_dialect.claim(*m_connection, owner, limit, leaseMs, m_claimTypes);
}

Error SqlRelayStore::complete(const QString &owner, const QList<DeliveryRecord> &records, QSet<qint64> *written)
{
    if (records.isEmpty())
        return {};
    return m_dialect.complete(*m_connection, owner, records, written);
}

Error SqlRelayStore::release(const QString &owner, const QList<qint64> &sequences)
{
    if (sequences.isEmpty())
        return {};
    const SequenceList list = withSequences(m_dialect.sql(QStringLiteral("release")), sequences);
    Query q(*m_connection, list.sql, list.json ? Query::Reuse::Kept : Query::Reuse::Once);
    q.bind(m_dialect.time(nowMs())).bind(owner);
    if (list.json)
        q.bind(*list.json);
    return q.exec(QStringLiteral("cannot release leases"));
}

// The rows held are read first, without locks, and then released by their sequences: one UPDATE by owner went
// through the status index on MariaDB and deadlocked with other relayers' write-backs (release.sql).
Error SqlRelayStore::releaseAll(const QString &owner)
{
    Query held(*m_connection, m_dialect.sql(QStringLiteral("held-by-owner")));
    held.bind(owner);
    if (Error e = held.exec(QStringLiteral("cannot release leases")))
        return e;
    QList<qint64> sequences;
    while (held.q().next())
        sequences.append(held.q().value(0).toLongLong());
    return release(owner, sequences);
}

Error SqlRelayStore::registerRelayer(const QString &owner, qint64 leaseMs)
{
    const bool locks = m_dialect.has(Capability::SessionLocks);
    if (locks) {
        // The lock first: a key that another session holds (one taking this relayer over) is not ours any more.
        for (int tries = 0; tries < 8; ++tries) {
            const qint64 key =
                m_lockKey > 0 && tries == 0 ? m_lockKey : qint64(QRandomGenerator::global()->bounded(1, 0x7fffffff));
            auto taken = m_dialect.tryRelayerLock(*m_connection, key);
            if (!taken.isOk())
                return taken.error();
            if (*taken) {
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
    Query q(*m_connection, m_dialect.sql(QStringLiteral("register-relayer")));
    q.bind(owner)
        .bind(host)
        .bind(pid)
        .bind(textOrNull(processStartToken(pid)))
        .bind(locks ? QVariant(m_lockKey) : QVariant(QMetaType(QMetaType::LongLong)))
        .bind(leaseMs)
        .bind(m_dialect.time(nowMs()));
    return q.exec(QStringLiteral("cannot register the relayer"));
}

Error SqlRelayStore::unregisterRelayer(const QString &owner)
{
    Query q(*m_connection, m_dialect.sql(QStringLiteral("unregister-relayer")));
    q.bind(owner);
    Error error = q.exec(QStringLiteral("cannot unregister the relayer"));
    if (m_lockKey > 0) {
        if (Error e = m_dialect.releaseRelayerLocks(*m_connection); e && !error)
            error = e;
        m_lockKey = 0;
    }
    return error;
}

Error SqlRelayStore::setTargetState(const QString &owner, const TargetState &state)
{
    // The target always (the console compares it with its own); the outage only while there is one.
    QJsonObject o{{QStringLiteral("target"), state.target}};
    if (!state.isAvailable()) {
        o.insert(QStringLiteral("since"), state.unavailableSince.toMSecsSinceEpoch());
        o.insert(QStringLiteral("next_probe"), state.nextProbeAt.toMSecsSinceEpoch());
        o.insert(QStringLiteral("why"), state.why);
    }
    const QVariant value = QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
    Query q(*m_connection, m_dialect.sql(QStringLiteral("set-target-state")));
    q.bind(value).bind(owner);
    return q.exec(QStringLiteral("cannot record the relayer's target state"));
}

Result<int> SqlRelayStore::renewLeases(const QString &owner, const QList<qint64> &sequences, qint64 leaseMs)
{
    if (sequences.isEmpty())
        return 0;
    const SequenceList list = withSequences(m_dialect.sql(QStringLiteral("renew-leases")), sequences);
    Query q(*m_connection, list.sql, list.json ? Query::Reuse::Kept : Query::Reuse::Once);
    q.bind(leaseMs).bind(leaseMs).bind(owner);
    if (list.json)
        q.bind(*list.json);
    if (Error e = q.exec(QStringLiteral("cannot renew leases")))
        return e;
    return q.q().numRowsAffected();
}

Result<int> SqlRelayStore::takeOver(const RelayerInfo &gone)
{
    if (!gone.registered)
        return 0;
    const bool locks = m_dialect.has(Capability::SessionLocks);
    qint64 lockKey = 0;
    if (locks) {
        // The key of the lock its session held, as it registered it (gone from the list: already taken over).
        {
            Query q(*m_connection, m_dialect.sql(QStringLiteral("relayers")));
            if (Error e = q.exec(QStringLiteral("cannot read the relayers")))
                return e;
            bool registered = false;
            while (!registered && q.q().next()) {
                registered = q.q().value(0).toString() == gone.owner;
                lockKey = q.q().value(4).toLongLong();
            }
            if (!registered)
                return 0;
        }
        // Holding its lock while releasing: it cannot come back meanwhile, and no other relayer releases too.
        auto taken = m_dialect.tryRelayerLock(*m_connection, lockKey);
        if (!taken.isOk())
            return taken.error();
        if (!*taken)
            return -1;
    }
    int released = 0;
    Error error = m_connection->inWriteTransaction(QStringLiteral("cannot take over a relayer"), [&]() -> Error {
        Query release(*m_connection, m_dialect.sql(QStringLiteral("take-over-release")));
        release.bind(gone.owner);
        if (Error e = release.exec(QStringLiteral("cannot release a gone relayer's leases")))
            return e;
        released = release.q().numRowsAffected();
        Query forget(*m_connection, m_dialect.sql(QStringLiteral("unregister-relayer")));
        forget.bind(gone.owner);
        if (Error e = forget.exec(QStringLiteral("cannot forget a gone relayer")))
            return e;
        if (released > 0)
            return m_dialect.wakeRelayers(*m_connection);
        return Error();
    });
    if (locks) {
        if (Error e = m_dialect.releaseRelayerLock(*m_connection, lockKey); e && !error)
            error = e;
    }
    if (error)
        return error;
    return released;
}

Result<qint64> SqlRelayStore::serverUptimeMs()
{
    if (!m_dialect.has(Capability::ServerUptime))
        return Error(Error::InvalidArgument, QStringLiteral("only a database server has an uptime"));
    Query q(*m_connection, m_dialect.sql(QStringLiteral("server-uptime")));
    if (Error e = q.exec(QStringLiteral("cannot read the server's uptime")))
        return e;
    if (!q.q().next())
        return Error(Error::Database, QStringLiteral("cannot read the server's uptime"));
    return q.q().value(0).toLongLong();
}

Result<qint64> SqlRelayStore::changeCounter()
{
    if (!m_dialect.has(Capability::ChangeCounter))
        return qint64(0);
    Query q(*m_connection, m_dialect.sql(QStringLiteral("change-counter")), Query::Reuse::Kept);
    if (Error e = q.exec(QStringLiteral("cannot read the database's change counter")))
        return e;
    if (!q.q().next())
        return Error(Error::Database, QStringLiteral("cannot read the database's change counter"));
    return q.q().value(0).toLongLong();
}

Result<QDateTime> SqlRelayStore::nextDueAt()
{
    Query q(*m_connection, m_dialect.sql(QStringLiteral("next-due")), Query::Reuse::Kept);
    if (Error e = q.exec(QStringLiteral("cannot read the next due time")))
        return e;
    if (!q.q().next())
        return QDateTime();
    return m_dialect.readTime(q.q().value(0));
}

} // namespace outbox::detail
