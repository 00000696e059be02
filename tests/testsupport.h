// SPDX-License-Identifier: MIT
#pragma once

// Helpers shared by the tests. The engine tests run once per backend: CTest sets OUTBOX_TEST_BACKEND to
// sqlite (a fresh file per test), postgresql (a fresh database per test on the throwaway server that the pg
// fixture started; its URL is in the file named by OUTBOX_TEST_PG_STATE) or mysql (the same on the throwaway
// MariaDB server of the mariadb fixture, OUTBOX_TEST_MARIADB_STATE).

#include "connectionspec.h"
#include "relaystore.h"
#include "storage.h"

#include <QFile>
#include <QProcess>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslKey>
#include <QStandardPaths>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <QUuid>

namespace testsupport {

// The relayer's side of an outbox of ours (the tests drive claims and write-backs by hand).
inline outbox::detail::RelayStore *relay(outbox::Storage &storage)
{
    outbox::detail::RelayStore *store = outbox::detail::relayStoreOf(storage);
    Q_ASSERT(store);
    return store;
}
inline outbox::detail::RelayStore *relay(const std::unique_ptr<outbox::Storage> &storage)
{
    return relay(*storage);
}

// A real small disk: a tmpfs of `size` ("2m") mounted on `dir`, where mounting is permitted (root in the test
// machine's sandbox); false elsewhere, for the test to skip. unmountTmpfs undoes it.
inline bool mountTmpfs(const QString &dir, const QString &size)
{
    return QProcess::execute(QStringLiteral("mount"),
               {QStringLiteral("-t"), QStringLiteral("tmpfs"), QStringLiteral("-o"), QStringLiteral("size=") + size,
                   QStringLiteral("tmpfs"), dir})
        == 0;
}

inline void unmountTmpfs(const QString &dir)
{
    QProcess::execute(QStringLiteral("umount"), {dir});
}

inline bool isPostgres()
{
    return qEnvironmentVariable("OUTBOX_TEST_BACKEND") == QLatin1String("postgresql");
}
inline bool isMysql()
{
    return qEnvironmentVariable("OUTBOX_TEST_BACKEND") == QLatin1String("mysql");
}
// A database server (PostgreSQL or MariaDB) rather than a file.
inline bool isServer()
{
    return isPostgres() || isMysql();
}

// The table that holds a pending event's lease, for a test that locks or steals one: on PostgreSQL its queue
// row (schema version 10).
inline const char *leaseTable()
{
    return isPostgres() ? "outbox_queue" : "outbox_events";
}

// The events with their leases, for a test's FROM: on PostgreSQL a pending event's lease and due time are on
// its queue row (schema version 10), so its row's own columns are read only for the other events.
inline QString eventsWithLeases()
{
    if (!isPostgres())
        return QStringLiteral("outbox_events");
    return QStringLiteral(
        "(SELECT e.seq, e.id, e.type, e.source, e.subject, e.content_type, e.data, e.extensions, e.ordering_key, "
        "e.status, e.attempts, e.last_error, e.last_http_status, e.created_at, e.sent_at, e.replay_of, "
        "e.last_duration_ms, e.last_relayer, "
        "COALESCE(q.next_attempt_at, e.next_attempt_at) AS next_attempt_at, COALESCE(q.lease_owner, e.lease_owner) "
        "AS lease_owner, COALESCE(q.lease_expires_at, e.lease_expires_at) AS lease_expires_at FROM outbox_events e "
        "LEFT JOIN outbox_queue q ON q.seq = e.seq) AS events_with_leases");
}

// A value from the state file a server fixture wrote.
inline QString serverState(const char *variable, const char *key)
{
    QFile state(qEnvironmentVariable(variable));
    if (!state.open(QIODevice::ReadOnly))
        qFatal("%s does not name the test server's state file: was its fixture started?", variable);
    for (const QByteArray &line : state.readAll().split('\n')) {
        if (line.startsWith(QByteArray(key) + '='))
            return QString::fromUtf8(line.mid(qstrlen(key) + 1));
    }
    qFatal("no %s in the test server's state file", key);
}

// The test server's URL (to its maintenance database).
inline outbox::ConnectionSpec postgresServer()
{
    if (isMysql())
        return *outbox::ConnectionSpec::fromUrl(serverState("OUTBOX_TEST_MARIADB_STATE", "MARIADBTEST_URL"));
    return *outbox::ConnectionSpec::fromUrl(serverState("OUTBOX_TEST_PG_STATE", "PGTEST_URL"));
}

inline QSqlDatabase openConnection(const outbox::ConnectionSpec &spec, const QString &name)
{
    QSqlDatabase db = QSqlDatabase::addDatabase(spec.driver, name);
    db.setDatabaseName(spec.database);
    db.setHostName(spec.host);
    db.setPort(spec.port);
    db.setUserName(spec.user);
    db.setPassword(spec.password);
    if (spec.isFile())
        db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=10000"));
    else
        db.setConnectOptions(spec.options); // TLS, timeouts, PostgreSQL's port list for several hosts
    if (!db.open())
        qFatal("cannot open test database: %s", qPrintable(db.lastError().text()));
    return db;
}

// Waits for a child process; one that has not finished in time has the stacks of all its threads printed
// (with gdb, when there is one) before it is killed, so a hang seen only on CI can be read from the log.
inline bool finishOrShowStacks(QProcess &p, int ms)
{
    if (p.waitForFinished(ms))
        return true;
    QProcess gdb;
    gdb.setProcessChannelMode(QProcess::MergedChannels);
    gdb.start(QStringLiteral("gdb"),
        {QStringLiteral("-p"), QString::number(p.processId()), QStringLiteral("-batch"), QStringLiteral("-ex"),
            QStringLiteral("thread apply all bt")});
    if (gdb.waitForStarted(5000) && gdb.waitForFinished(60000))
        qWarning("%s %s did not finish in %d ms; its threads:\n%s", qPrintable(p.program()),
            qPrintable(p.arguments().join(QLatin1Char(' '))), ms, gdb.readAll().constData());
    else
        qWarning("%s did not finish in %d ms (no gdb to show where it was)", qPrintable(p.program()), ms);
    p.kill();
    p.waitForFinished(5000);
    return false;
}

// A new, empty place for an outbox: a SQLite file in dir, or a new database on the test server.
inline outbox::ConnectionSpec freshOutbox(const QTemporaryDir &dir)
{
    static int counter = 0;
    ++counter;
    if (!isServer())
        return outbox::ConnectionSpec::sqlite(dir.filePath(QStringLiteral("outbox-%1.db").arg(counter)));
    outbox::ConnectionSpec server = postgresServer();
    const QString name = QStringLiteral("outbox_test_%1_%2").arg(QCoreApplication::applicationPid()).arg(counter);
    {
        QSqlDatabase admin = openConnection(server, QStringLiteral("pg-admin"));
        QSqlQuery q(admin);
        // Copying template1 fails while another session is connected to it ("template1 is being accessed by
        // other users": an autovacuum worker, another process's CREATE DATABASE): PostgreSQL copies template0,
        // which takes no connections; and a failure is tried again.
        const QString create = isPostgres() ? QStringLiteral("CREATE DATABASE %1 TEMPLATE template0")
                                            : QStringLiteral("CREATE DATABASE %1");
        for (int attempt = 0;; ++attempt) {
            if (q.exec(create.arg(name)))
                break;
            if (attempt == 20)
                qFatal("cannot create test database: %s", qPrintable(q.lastError().text()));
            QThread::msleep(100 + 50 * attempt);
        }
        admin.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("pg-admin"));
    server.database = name;
    return server;
}

// The unified table as each framework's schema creates it (the column list of their storage code).
inline QString romancyTableSql(const QString &driver)
{
    if (driver == QLatin1String("QPSQL"))
        return QStringLiteral(
            "CREATE TABLE outbox_events (event_id TEXT PRIMARY KEY, event_type TEXT NOT NULL, event_source TEXT "
            "NOT NULL, data_type TEXT NOT NULL DEFAULT 'json', event_data TEXT, event_data_binary BYTEA, "
            "content_type TEXT NOT NULL DEFAULT 'application/json', created_at TIMESTAMP NOT NULL DEFAULT NOW(), "
            "published_at TIMESTAMP, status TEXT NOT NULL DEFAULT 'pending', retry_count INTEGER DEFAULT 0, "
            "last_error TEXT, CONSTRAINT valid_outbox_status CHECK (status IN ('pending', 'processing', "
            "'published', 'failed', 'invalid', 'expired')))");
    if (driver == QLatin1String("QMYSQL"))
        return QStringLiteral(
            "CREATE TABLE outbox_events (event_id VARCHAR(255) PRIMARY KEY, event_type VARCHAR(255) NOT NULL, "
            "event_source VARCHAR(255) NOT NULL, data_type VARCHAR(10) NOT NULL DEFAULT 'json', event_data "
            "LONGTEXT, event_data_binary LONGBLOB, content_type VARCHAR(100) NOT NULL DEFAULT 'application/json', "
            "created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, published_at TIMESTAMP NULL, status "
            "VARCHAR(50) NOT NULL DEFAULT 'pending', retry_count INT DEFAULT 0, last_error TEXT, CONSTRAINT "
            "valid_outbox_status CHECK (status IN ('pending', 'processing', 'published', 'failed', 'invalid', "
            "'expired')))");
    return QStringLiteral(
        "CREATE TABLE outbox_events (event_id TEXT PRIMARY KEY, event_type TEXT NOT NULL, event_source TEXT NOT "
        "NULL, data_type TEXT NOT NULL DEFAULT 'json', event_data TEXT, event_data_binary BLOB, content_type TEXT "
        "NOT NULL DEFAULT 'application/json', created_at TEXT NOT NULL DEFAULT (datetime('now')), published_at "
        "TEXT, status TEXT NOT NULL DEFAULT 'pending', retry_count INTEGER DEFAULT 0, last_error TEXT, CONSTRAINT "
        "valid_outbox_status CHECK (status IN ('pending', 'processing', 'published', 'failed', 'invalid', "
        "'expired')))");
}

// The table and the indexes romancy and edda create, on a database of that backend.
inline void createRomancyTable(QSqlDatabase db, const QString &driver)
{
    QSqlQuery q(db);
    for (const QString &sql :
        {romancyTableSql(driver), QStringLiteral("CREATE INDEX idx_outbox_status ON outbox_events(status, created_at)"),
            QStringLiteral("CREATE INDEX idx_outbox_retry ON outbox_events(status, retry_count)"),
            QStringLiteral("CREATE INDEX idx_outbox_published ON outbox_events(published_at)")}) {
        if (!q.exec(sql))
            qFatal("cannot create the romancy table: %s", qPrintable(q.lastError().text()));
    }
}

// An application's own connection to the outbox (the way a program embedding the engine would hold one).
// Points this process's home at `home` and turns on QStandardPaths' test mode, so settings and the demo outbox
// go to a throwaway place of this process alone. The backends' runs of a console test go side by side under
// ctest -j: with a home shared between them, one run's QSettings().clear() and demo outbox landed in the middle
// of another's test. Call it before anything reads a setting.
inline bool useOwnHome(const QTemporaryDir &home)
{
    if (!home.isValid())
        return false;
    qputenv("HOME", QFile::encodeName(home.path()));
    QStandardPaths::setTestModeEnabled(true);
    return true;
}

class AppConnection
{
public:
    explicit AppConnection(const outbox::ConnectionSpec &spec)
        : m_name(QStringLiteral("app-") + QUuid::createUuid().toString(QUuid::WithoutBraces))
    {
        openConnection(spec, m_name);
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

inline std::unique_ptr<outbox::Storage> openStorage(const outbox::ConnectionSpec &spec)
{
    auto s = outbox::Storage::open(spec);
    if (!s.isOk())
        qFatal("cannot open test outbox: %s", qPrintable(s.error().message()));
    return std::move(s.value());
}

// A throwaway CA (ca.pem) and a server certificate for 127.0.0.1 signed by it (srv.pem, srv.key) in dir; with
// `client`, also a client certificate for CN "relayer" (client.pem, client.key). False when openssl fails.
inline bool makeTestCertificates(const QString &dir, bool client = false)
{
    auto openssl = [&](const QStringList &args) {
        QProcess p;
        p.setWorkingDirectory(dir);
        p.start(QStringLiteral("openssl"), args);
        return p.waitForFinished(60000) && p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
    };
    QFile ext(dir + QStringLiteral("/ext.cnf"));
    if (!ext.open(QIODevice::WriteOnly))
        return false;
    ext.write("subjectAltName=IP:127.0.0.1\n");
    ext.close();
    bool ok = openssl({"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days",
                  "2", "-subj", "/CN=Outbox Test CA"})
        && openssl(
            {"req", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=127.0.0.1"})
        && openssl({"x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out",
            "srv.pem", "-days", "2", "-extfile", "ext.cnf"});
    if (ok && client)
        ok = openssl({"req", "-newkey", "rsa:2048", "-nodes", "-keyout", "client.key", "-out", "client.csr", "-subj",
                 "/CN=relayer"})
            && openssl({"x509", "-req", "-in", "client.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", "client.pem", "-days", "2"});
    return ok;
}

// The TLS configuration of a test server with the certificate makeTestCertificates() made in dir.
inline QSslConfiguration testServerTls(const QString &dir)
{
    QSslConfiguration conf = QSslConfiguration::defaultConfiguration();
    conf.setLocalCertificate(QSslCertificate::fromPath(dir + QStringLiteral("/srv.pem")).value(0));
    QFile key(dir + QStringLiteral("/srv.key"));
    if (key.open(QIODevice::ReadOnly))
        conf.setPrivateKey(QSslKey(key.readAll(), QSsl::Rsa));
    return conf;
}

} // namespace testsupport
