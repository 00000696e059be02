// SPDX-License-Identifier: MIT
#include "sqlconnection.h"

#include <QFile>
#include <QSqlError>

#include <sys/stat.h>

namespace outbox::detail {

SqlConnection::SqlConnection(const ConnectionSpec &spec, const QString &connectionName, const Dialect &dialect)
    : m_spec(spec), m_connectionName(connectionName), m_dialect(dialect), m_state(dialect.newState())
{ }

SqlConnection::~SqlConnection()
{
    m_prepared.clear(); // statements go before their connection
    m_state.reset();
    {
        QSqlDatabase db = QSqlDatabase::database(m_connectionName, false);
        if (db.isOpen())
            db.close();
    }
    QSqlDatabase::removeDatabase(m_connectionName);
}

QSqlDatabase SqlConnection::database() const
{
    return QSqlDatabase::database(m_connectionName, false);
}

bool SqlConnection::isFileReplaced() const
{
    return m_dialect.has(Storage::Capability::LocalFile) && fileIdentity(m_spec.database) != m_fileIdentity;
}

bool SqlConnection::ping()
{
    Query q(*this, m_dialect.sql(QStringLiteral("ping")));
    return !q.exec(QStringLiteral("ping")).isError();
}

Error SqlConnection::reconnect(bool forWrites)
{
    m_prepared.clear();
    m_state = m_dialect.newState();
    QSqlDatabase db = database();
    db.close();
    if (!db.open())
        return m_dialect.connectError(m_spec, db.lastError());
    return m_dialect.setUpSession(db, m_spec, forWrites);
}

Error SqlConnection::inWriteTransaction(const QString &what, const std::function<Error()> &work)
{
    QSqlDatabase db = database();
    if (Error e = Storage::beginWrite(db))
        return Error(e.code(), QStringLiteral("%1: %2").arg(what, e.message()));
    QSqlQuery tx(db);
    if (Error e = work()) {
        tx.exec(QStringLiteral("ROLLBACK"));
        return e;
    }
    if (!tx.exec(QStringLiteral("COMMIT"))) {
        QString why = m_dialect.errorText(tx.lastError());
        tx.exec(QStringLiteral("ROLLBACK"));
        return Error(Error::Database, QStringLiteral("%1: %2").arg(what, why));
    }
    return {};
}

Query::Query(SqlConnection &connection, const QString &sql, Reuse reuse) : m_connection(connection)
{
    const QSqlDatabase db = connection.database();
    if (reuse == Reuse::Kept) {
        auto &kept = connection.m_prepared[sql];
        if (!kept) {
            kept = std::make_unique<QSqlQuery>(db);
            kept->setForwardOnly(connection.dialect().keptStatementsReadAsTheyGo());
            if (!db.isOpen() || !kept->prepare(sql)) {
                m_own.emplace(*kept); // keeps the error to report
                m_query = &*m_own;
                connection.m_prepared.erase(sql);
                return;
            }
        }
        m_query = kept.get();
        m_kept = true;
        m_prepared = true;
        return;
    }
    m_own.emplace(db);
    m_query = &*m_own;
    m_query->setForwardOnly(true);
    if (reuse == Reuse::Text) {
        m_text = sql;
        m_prepared = true;
        return;
    }
    // A closed connection (a lost server) is reported by exec(), without Qt's own warning here.
    m_prepared = db.isOpen() && m_query->prepare(sql);
}

Query::~Query()
{
    if (m_kept)
        m_query->finish(); // resets the statement so it holds no read open
}

Error Query::exec(const QString &what)
{
    const Dialect &dialect = m_connection.dialect();
    auto error = [&](const QSqlError &e) {
        QString why = dialect.errorText(e);
        if (why.isEmpty())
            why = QStringLiteral("no answer from the database (connection lost?)");
        return Error(Error::Database, QStringLiteral("%1: %2").arg(what, why));
    };
    if (!m_connection.database().isOpen())
        return Error(Error::Database, QStringLiteral("%1: no connection to the database").arg(what));
    if (!m_prepared)
        return error(m_query->lastError());
    m_connection.countStatement();
    if (!(m_text.isEmpty() ? m_query->exec() : m_query->exec(m_text)))
        return error(m_query->lastError());
    return {};
}

QByteArray fileIdentity(const QString &path)
{
    struct stat st
    { };
    if (::stat(QFile::encodeName(path).constData(), &st) != 0)
        return {};
    return QByteArray::number(quint64(st.st_dev)) + ':' + QByteArray::number(quint64(st.st_ino));
}

} // namespace outbox::detail
