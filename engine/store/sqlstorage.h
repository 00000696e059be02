// SPDX-License-Identifier: MIT
#pragma once

// Private: the one implementation of Storage, on a Qt SQL connection, with the dialect of its database.

#include "dialect.h"
#include "relaystore.h"
#include "sqlconnection.h"
#include "storage.h"

#include <memory>
#include <optional>

namespace outbox::detail {

struct OperatorAction; // operatorlog.h

// Whether Storage::migrate() has already run on this connection for its current database (enqueues check it
// once per connection), and the record that it has.
bool isSchemaChecked(const QSqlDatabase &db);
void setSchemaChecked(const QSqlDatabase &db);
// The PostgreSQL channel an enqueue NOTIFYs inside the caller's transaction, and relayers LISTEN to.
QString notificationChannel();

struct Where;

// The relayer's side of our outbox (see relaystore.h), on the connection of the SqlStorage that owns it.
class SqlRelayStore final : public RelayStore
{
public:
    explicit SqlRelayStore(SqlConnection &connection);

    void setClaimTypes(const QStringList &include, const QStringList &exclude) override;
    Result<QList<OutboxEvent>> claim(const QString &owner, int limit, qint64 leaseMs) override;
    Error complete(const QString &owner, const QList<DeliveryRecord> &records, QSet<qint64> *written) override;
    Error release(const QString &owner, const QList<qint64> &sequences) override;
    Error releaseAll(const QString &owner) override;
    Error registerRelayer(const QString &owner, qint64 leaseMs) override;
    Error unregisterRelayer(const QString &owner) override;
    Error setTargetState(const QString &owner, const TargetState &state) override;
    Result<int> renewLeases(const QString &owner, const QList<qint64> &sequences, qint64 leaseMs) override;
    Result<int> takeOver(const RelayerInfo &gone) override;
    Result<qint64> serverUptimeMs() override;
    Result<qint64> changeCounter() override;
    Result<QDateTime> nextDueAt() override;
    qint64 statementCount() const override { return m_connection->statementCount(); }

private:
    using Capability = Storage::Capability;
    SqlConnection *m_connection;
    const Dialect &m_dialect;
    QStringList m_claimInclude, m_claimExclude; // glob patterns (see setClaimTypes)
    QString m_claimTypes; // their condition, built once
    qint64 m_lockKey = 0; // SessionLocks: this session's relayer lock (0: none)
};

class SqlStorage final : public Storage
{
public:
    explicit SqlStorage(std::unique_ptr<SqlConnection> connection);
    ~SqlStorage() override;

    QSqlDatabase database() const override { return m_connection->database(); }
    const ConnectionSpec &spec() const override { return m_connection->spec(); }
    bool has(Capability capability) const override;
    QString formatName() const override { return {}; }
    QString relayRefusal() const override { return {}; }
    bool isFileReplaced() const override { return m_connection->isFileReplaced(); }
    bool ping() override { return m_connection->ping(); }
    Error reconnect() override { return m_connection->reconnect(true); }

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
    // The newest operator actions from the events' history (detail::operatorActions).
    Result<QList<OperatorAction>> operatorActions(int limit);
    Result<bool> resolveFailed(const QString &id, const QString &note) override;
    Result<LatestFailure> latestFailure() override;
    Result<QList<DeliveryBucket>> deliveryHistory(
        const QDateTime &since, int bucketSeconds, qint64 newestEvents) override;
    Result<QList<OutboxEvent>> takeFailed(
        const QString &owner, const QList<qint64> &sequences, qint64 leaseMs, const QString &note) override;
    Result<QList<QPair<QString, qint64>>> valueCounts(Attribute attribute, int limit) override;
    Result<ActionSummary> retry(const QStringList &ids) override;
    Result<ActionSummary> retryMatching(const EventFilter &filter) override;
    Result<ActionSummary> replay(const QStringList &ids) override;
    Result<ActionSummary> remove(const QStringList &ids) override;
    Result<int> cleanup(const QDateTime &olderThan, const QList<EventStatus> &statuses, int batchSize) override;
    Result<int> releaseStuck(const QDateTime &createdBefore) override;
    Result<OutboxStats> stats() override;

    SqlRelayStore &relayStore() { return m_relay; }

private:
    // Adds an "operator" entry (what, by actor()) to the history of the rows `rows` selects.
    Error recordOperatorAction(const QString &what, const Where &rows);

    std::unique_ptr<SqlConnection> m_connection;
    const Dialect &m_dialect;
    SqlRelayStore m_relay; // on m_connection
};

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
    // The condition after `keyword` (" AND " to extend a statement's own WHERE); empty without terms.
    QString sql(const QString &keyword = QStringLiteral(" WHERE ")) const
    {
        return terms.isEmpty() ? QString() : keyword + terms.join(QStringLiteral(" AND "));
    }
};
Where whereFor(const EventFilter &filter, const Dialect &dialect);
QString sequenceListJson(const QList<qint64> &sequences);
// A statement that reads a list of sequences ({{sequence-list}}, the last value bound): where the dialect's list
// is {{sequences}} it is inlined as integer literals, else bound as one JSON array (`json` set).
struct SequenceList
{
    QString sql;
    std::optional<QString> json;
};
SequenceList withSequences(QString sql, const QList<qint64> &sequences);

} // namespace outbox::detail
