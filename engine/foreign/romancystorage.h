// SPDX-License-Identifier: MIT
#pragma once

// Private: the outbox of the system this engine is modelled on, opened as it is. romancy (Go) and edda
// (Python) share one table, outbox_events, on SQLite, PostgreSQL and MySQL: a text event_id as the key, the
// CloudEvents attributes, the data as JSON text or bytes, a status (pending, processing, published, failed,
// invalid, expired), a retry count and the last error. This storage reads it and repairs rows in states the
// frameworks' relayers understand; it never creates or alters anything in that database (no table, no index,
// no WAL switch) and does not relay: those relayers take rows without a lease another relayer could share.
//
// Rows are numbered for the console's table as Storage asks: on SQLite by the table's rowid (it rises with
// insertion and is indexed); elsewhere by numbering the ids this storage has seen, in the order it saw them.

#include "dialect.h"
#include "sqlconnection.h"
#include "sqlstorage.h"
#include "storage.h"

#include <QHash>

#include <memory>

namespace outbox::detail {

class RomancyStorage final : public Storage
{
public:
    // `columns`: those the probe found in outbox_events (older releases lack some of the optional ones).
    RomancyStorage(std::unique_ptr<SqlConnection> connection, const QString &format, const QStringList &columns);
    ~RomancyStorage() override;

    QSqlDatabase database() const override { return m_connection->database(); }
    const ConnectionSpec &spec() const override { return m_connection->spec(); }
    bool has(Capability capability) const override;
    QString formatName() const override { return m_format; }
    QString relayRefusal() const override;
    bool isFileReplaced() const override { return m_connection->isFileReplaced(); }
    bool ping() override { return m_connection->ping(); }
    Error reconnect() override { return m_connection->reconnect(false); }

    Result<QList<RelayerInfo>> relayers(bool withLeases) override;

    Result<QList<OutboxEvent>> listEvents(const EventFilter &filter, const PageRequest &page) override;
    Result<qint64> countEvents(const EventFilter &filter) override;
    Result<qint64> scanSequences(const EventFilter &filter, SortOrder order, int chunk,
        const std::function<bool(const QList<qint64> &)> &sink) override;
    Result<QList<OutboxEvent>> eventsBySequence(const QList<qint64> &sequences, bool includeData) override;
    Result<QStringList> idsBySequence(const QList<qint64> &sequences) override;
    Result<qint64> maxSequence() override;
    Result<OutboxEvent> event(const QString &id) override;
    Result<QList<Attempt>> attempts(const QString &id) override;
    Result<QList<FailureGroup>> failureGroups(const EventFilter &filter) override;
    Error addHistoryNote(const QString &id, const QString &what) override;
    Result<QList<QPair<QString, qint64>>> valueCounts(Attribute attribute, int limit) override;
    Result<ActionSummary> retry(const QStringList &ids) override;
    Result<ActionSummary> retryMatching(const EventFilter &filter) override;
    Result<ActionSummary> replay(const QStringList &ids) override;
    Result<ActionSummary> remove(const QStringList &ids) override;
    Result<int> cleanup(const QDateTime &olderThan, const QList<EventStatus> &statuses, int batchSize) override;
    Result<int> releaseStuck(const QDateTime &createdBefore) override;
    Result<OutboxStats> stats() override;

private:
    using Where = detail::Where; // the conditions of a statement and their values, as SqlStorage's
    Result<Where> whereFor(const EventFilter &filter) const;
    QString columns(bool includeData) const;
    QString column(const QString &name, const QString &fallback) const;
    QString timeText(const QString &column) const;
    QString timeParameter() const;
    QString orderBy(const char *column, bool descending) const;
    OutboxEvent rowToEvent(const class QSqlQuery &q, bool includeData);
    qint64 sequenceOf(const QVariant &key, const QString &id);
    Result<QSqlQuery> run(const QString &sql, const QVariantList &values, const QString &what);
    // Runs the statement sqlFor(placeholders) on the ids, 500 at a time, in one transaction; what it changed.
    Result<ActionSummary> byIds(
        const QString &what, const QStringList &ids, const std::function<QString(const QString &)> &sqlFor);

    std::unique_ptr<SqlConnection> m_connection;
    const Dialect &m_dialect;
    QString m_format;
    QStringList m_columns;
    QString m_rowKey; // SQLite: "rowid"; empty where ids are numbered here
    // Without a row key: the ids seen, numbered from 1 in the order first seen, shared by every storage of
    // this process on the same database (the console reads with several connections; a sequence one found
    // must name the same row for the others).
    struct IdNumbers;
    static std::shared_ptr<IdNumbers> numbersFor(const ConnectionSpec &spec);
    std::shared_ptr<IdNumbers> m_numbers;
    QString idOf(qint64 sequence) const;
    qint64 numberOf(const QString &id);
    qint64 numbered() const;
};

} // namespace outbox::detail
