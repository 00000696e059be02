#pragma once

// Helpers shared by the tests: a fresh SQLite outbox in a temporary directory, and an application-style
// connection to it.

#include "storage.h"

#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>

namespace testsupport {

// An application's own connection to the outbox file (the way a program embedding the engine would hold one).
class AppConnection
{
public:
    explicit AppConnection(const QString &path)
        : m_name(QStringLiteral("app-") + QUuid::createUuid().toString(QUuid::WithoutBraces))
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_name);
        db.setDatabaseName(path);
        db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=10000"));
        db.open();
    }
    ~AppConnection()
    {
        {
            QSqlDatabase db = QSqlDatabase::database(m_name, false);
            db.close();
        }
        QSqlDatabase::removeDatabase(m_name);
    }
    QSqlDatabase db() const { return QSqlDatabase::database(m_name, false); }

    // A single value from a query, for asserting on what the database holds.
    QVariant scalar(const QString &sql) const
    {
        QSqlQuery q(db());
        if (!q.exec(sql) || !q.next())
            return {};
        return q.value(0);
    }

private:
    QString m_name;
};

inline std::unique_ptr<outbox::Storage> openStorage(const QString &path)
{
    auto s = outbox::Storage::open(outbox::ConnectionSpec::sqlite(path));
    if (!s.isOk())
        qFatal("cannot open test outbox: %s", qPrintable(s.error().message()));
    return std::move(s.value());
}

} // namespace testsupport
