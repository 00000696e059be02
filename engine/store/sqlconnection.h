// SPDX-License-Identifier: MIT
#pragma once

// Private: one named Qt SQL connection to an outbox's database, shared by the stores that work on it (the
// operator's SqlStorage, the relayer's SqlRelayStore, the foreign RomancyStorage): it owns the connection
// (closed and removed on destruction), reopens it, tells whether a SQLite file was replaced under it, keeps
// prepared statements and the dialect's per-connection state, counts statements and runs write transactions.

#include "dialect.h"

#include <QSqlQuery>

#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>

namespace outbox::detail {

class SqlConnection
{
public:
    // Takes over the connection registered as `connectionName` (QSqlDatabase::addDatabase), open or not.
    SqlConnection(const ConnectionSpec &spec, const QString &connectionName, const Dialect &dialect);
    ~SqlConnection();
    SqlConnection(const SqlConnection &) = delete;
    SqlConnection &operator=(const SqlConnection &) = delete;

    QSqlDatabase database() const;
    const ConnectionSpec &spec() const { return m_spec; }
    const Dialect &dialect() const { return m_dialect; }

    // LocalFile: the device and inode of the file opened, and whether the path names another file now.
    void setFileIdentity(const QByteArray &identity) { m_fileIdentity = identity; }
    bool isFileReplaced() const;
    bool ping();
    // Closes and opens the connection again, forgetting prepared statements; `forWrites` as the dialect's
    // setUpSession (false for a foreign outbox, opened as it is).
    Error reconnect(bool forWrites);
    // BEGIN (the dialect's way for writes), work, COMMIT; ROLLBACK when work or COMMIT fails.
    Error inWriteTransaction(const QString &what, const std::function<Error()> &work);

    DialectState *dialectState() const { return m_state.get(); }
    // Forgets the dialect's per-connection state (its kept statements), e.g. when the claim's text changes.
    void resetDialectState() { m_state = m_dialect.newState(); }
    void countStatement() { ++m_statements; }
    qint64 statementCount() const { return m_statements; }

private:
    friend class Query;
    ConnectionSpec m_spec;
    QString m_connectionName;
    const Dialect &m_dialect;
    std::unique_ptr<DialectState> m_state;
    QByteArray m_fileIdentity;
    qint64 m_statements = 0;
    // Statements run over and over, prepared once per connection where the dialect keeps them (preparing
    // the claim cost as much as running it for a small batch).
    std::unordered_map<QString, std::unique_ptr<QSqlQuery>> m_prepared;
};

// A prepared statement on a connection; counts what it executes and words its errors.
class Query
{
public:
    // Reuse::Kept: prepared once for this connection and kept (for statements of fixed text run over and over,
    // like the relayer's; on PostgreSQL preparing each time cost a PREPARE and a DEALLOCATE round trip apiece
    // and a fresh parse and plan); a reconnect forgets them with the connection. Reuse::Text: not prepared, sent
    // as text in one round trip, with no value bound (for statements whose text differs per call anyway: their
    // values inlined as literals).
    enum class Reuse { Once, Kept, Text };

    Query(SqlConnection &connection, const QString &sql, Reuse reuse = Reuse::Once);
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
    SqlConnection &m_connection;
    std::optional<QSqlQuery> m_own;
    QSqlQuery *m_query = nullptr;
    bool m_prepared = false;
    bool m_kept = false;
    int m_bound = 0;
    QString m_text; // Reuse::Text: the statement
};

// A file's device and inode (empty when there is none).
QByteArray fileIdentity(const QString &path);

} // namespace outbox::detail
