// SPDX-License-Identifier: MIT
#pragma once

// Private: the one implementation of Storage, on a Qt SQL connection, with the dialect of its database.

#include "dialect.h"
#include "storage.h"

#include <QSqlQuery>

#include <optional>
#include <unordered_map>

namespace outbox::detail {

// Whether Storage::migrate() has already run on this connection for its current database (enqueues check it
// once per connection), and the record that it has.
bool isSchemaChecked(const QSqlDatabase &db);
void setSchemaChecked(const QSqlDatabase &db);
// The PostgreSQL channel an enqueue NOTIFYs inside the caller's transaction, and relayers LISTEN to.
QString notificationChannel();

struct Where;

class SqlStorage final : public Storage
{
public:
    SqlStorage(const ConnectionSpec &spec, const QString &connectionName, const Dialect &dialect);
    ~SqlStorage() override;

    QSqlDatabase database() const override;
    const ConnectionSpec &spec() const override { return m_spec; }
    bool has(Capability capability) const override;
    QString formatName() const override { return {}; }
    QString relayRefusal() const override { return {}; }
    bool isFileReplaced() const override;
    bool ping() override;
    Error reconnect() override;

    void setClaimTypes(const QStringList &include, const QStringList &exclude) override;
    Result<QList<OutboxEvent>> claim(const QString &owner, int limit, qint64 leaseMs) override;
    Error complete(const QString &owner, const QList<DeliveryRecord> &records, QSet<qint64> *written) override;
    Error release(const QString &owner, const QList<qint64> &sequences) override;
    Error releaseAll(const QString &owner) override;
    Error registerRelayer(const QString &owner, qint64 leaseMs) override;
    Error unregisterRelayer(const QString &owner) override;
    Error setTargetState(const QString &owner, const TargetState &state) override;
    Result<int> renewLeases(const QString &owner, const QList<qint64> &sequences, qint64 leaseMs) override;
    Result<QList<RelayerInfo>> relayers(bool withLeases) override;
    Result<int> takeOver(const RelayerInfo &gone) override;
    Result<qint64> serverUptimeMs() override;
    Result<qint64> changeCounter() override;
    Result<QDateTime> nextDueAt() override;

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
    qint64 statementCount() const override { return m_statements; }

    // For the dialects.
    const Dialect &dialect() const { return m_dialect; }
    DialectState *dialectState() const { return m_state.get(); }
    void countStatement() { ++m_statements; }
    Error inWriteTransaction(const QString &what, const std::function<Error()> &work);
    void setFileIdentity(const QByteArray &identity) { m_fileIdentity = identity; }
    // Leaves its connection open for another storage to own (the destructor no longer closes it).
    void giveUpConnection() { m_connectionName.clear(); }

private:
    friend class Query;
    // Adds an "operator" entry (what, by actor()) to the history of the rows `rows` selects.
    Error recordOperatorAction(const QString &what, const Where &rows);

    ConnectionSpec m_spec;
    QString m_connectionName;
    const Dialect &m_dialect;
    std::unique_ptr<DialectState> m_state;
    QStringList m_claimInclude, m_claimExclude; // glob patterns (see setClaimTypes)
    QString m_claimTypes; // their condition, built once
    QByteArray m_fileIdentity; // LocalFile: device and inode of the file opened
    qint64 m_lockKey = 0; // SessionLocks: this session's relayer lock (0: none)
    qint64 m_statements = 0;
    // Statements run over and over, prepared once per connection where the dialect keeps them (preparing
    // the claim cost as much as running it for a small batch).
    std::unordered_map<QString, std::unique_ptr<QSqlQuery>> m_prepared;
};

// A prepared statement on a storage's connection; counts what it executes and words its errors.
class Query
{
public:
    // Reuse::Kept: where the dialect keeps statements, prepared once for this connection (for statements run
    // over and over, like the relayer's). PostgreSQL prepares each time: keeping them stopped an idle relayer
    // from hearing NOTIFY.
    enum class Reuse { Once, Kept };

    Query(SqlStorage *storage, const QString &sql, Reuse reuse = Reuse::Once);
    ~Query();
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
    Error exec(const QString &what);
    QSqlQuery &q() { return *m_query; }

private:
    SqlStorage *m_storage;
    std::optional<QSqlQuery> m_own;
    QSqlQuery *m_query = nullptr;
    bool m_prepared = false;
    bool m_kept = false;
    int m_bound = 0;
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
// A file's device and inode (empty when there is none).
QByteArray fileIdentity(const QString &path);

} // namespace outbox::detail
