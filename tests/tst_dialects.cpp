// SPDX-License-Identifier: MIT
// The dialects without a database server: their SQL files, the filter builder's SQL per dialect, URLs of
// every database, and an unknown Qt driver refused instead of taken for another database. The statements
// are prepared against each live database by tst_storage's everyNamedStatementPrepares.
#include "connectionspec.h"
#include "dialect.h"
#include "sendevent.h"
#include "sqlstorage.h"
#include "storage.h"

#include <QRegularExpression>
#include <QSqlDatabase>
#include <QTemporaryDir>
#include <QFile>
#include <QTest>

using namespace outbox;
using outbox::detail::Dialect;

class TestDialects : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void everyDialectIsFoundByItsDriver()
    {
        QStringList names;
        for (const Dialect *d : Dialect::all()) {
            QCOMPARE(Dialect::forDriver(d->driverName()), d);
            names << d->name();
        }
        QCOMPARE(names, (QStringList{"sqlite", "postgresql", "mysql"}));
        QCOMPARE(Dialect::forDriver(QStringLiteral("QODBC")), nullptr);
    }

    // Every dialect migrates to the current version, every step has its file, and nothing names a version
    // this program does not know.
    void everyDialectHasEveryMigration()
    {
        for (const Dialect *d : Dialect::all()) {
            for (int v = 1; v <= Storage::schemaVersion(); ++v)
                QVERIFY2(d->statementNames().contains(QStringLiteral("migrate-%1").arg(v)),
                    qPrintable(QStringLiteral("%1: migrate-%2").arg(d->name()).arg(v)));
            QVERIFY(!d->statementNames().contains(QStringLiteral("migrate-%1").arg(Storage::schemaVersion() + 1)));
            QVERIFY2(!d->migration(1).isEmpty(), qPrintable(d->name()));
            for (const QString &statement : d->migration(1)) {
                QVERIFY(!statement.endsWith(QLatin1Char(';')));
                QVERIFY(!statement.contains(QLatin1String("--")));
            }
        }
        // The SQLite schema: its two tables and six indexes, one statement each.
        QCOMPARE(Dialect::forDriver(QStringLiteral("QSQLITE"))->migration(1).size(), 8);
        QCOMPARE(Dialect::forDriver(QStringLiteral("QSQLITE"))->migration(2).size(), 4);
        QVERIFY(Dialect::forDriver(QStringLiteral("QPSQL"))->migration(2).isEmpty()); // a comment only
    }

    // After loading, only the tokens filled per call are left in any statement: fragments were inlined.
    void onlyPerCallTokensAreLeft()
    {
        const QStringList perCall{"where", "types", "columns", "direction", "order", "statuses", "patterns",
            "sequences",
            // the romancy/edda statements' (romancystorage.cpp)
            "age", "time", "column", "oldest", "clear-error", "and", "copied", "ids", "error", "first", "last"};
        static const QRegularExpression token(QStringLiteral("\\{\\{([a-z0-9-]+)\\}\\}"));
        for (const Dialect *d : Dialect::all()) {
            for (const QString &name : d->statementNames()) {
                const QString sql = d->sql(name);
                // Empty only where a version changes nothing, or a database has no row key to offer.
                QVERIFY2(!sql.isEmpty() || name.startsWith(QLatin1String("migrate-"))
                        || name == QLatin1String("romancy-row-key"),
                    qPrintable(d->name() + QLatin1Char('/') + name));
                for (auto it = token.globalMatch(sql); it.hasNext();) {
                    const QString t = it.next().captured(1);
                    QVERIFY2(perCall.contains(t), qPrintable(QStringLiteral("%1/%2: {{%3}}").arg(d->name(), name, t)));
                }
            }
            // What the storage runs exists in every dialect (its own file or the common one).
            for (const char *name : {"insert-event", "list-events", "retry", "replay", "release", "renew-leases",
                     "register-relayer", "relayers", "probe-tables", "probe-columns", "event-columns"})
                QVERIFY2(!d->sql(QLatin1String(name)).isEmpty(), qPrintable(d->name() + QLatin1Char('/') + name));
        }
    }

    // The filter builder, per dialect, without a server: the same terms, each database's functions.
    void filterSqlPerDialect_data()
    {
        QTest::addColumn<QString>("driver");
        QTest::addColumn<QString>("expected");
        QTest::newRow("sqlite")
            << "QSQLITE"
            << " WHERE status = ? AND type = ? AND instr(last_error, ?) > 0 AND created_at >= ? AND "
               "instr(CAST(CASE WHEN length(outbox_events.data) > 0 THEN outbox_events.data ELSE COALESCE((SELECT "
               "p.data FROM outbox_payloads p WHERE p.seq = outbox_events.seq), x'') END AS BLOB), ?) > 0";
        QTest::newRow("postgresql") << "QPSQL"
                                    << " WHERE status = ? AND type = ? AND strpos(last_error, ?) > 0 AND created_at >= "
                                       "? AND position(CAST(? AS bytea) IN data) > 0";
        QTest::newRow("mysql") << "QMYSQL"
                               << " WHERE status = ? AND type = ? AND LOCATE(?, last_error) > 0 AND created_at >= ? "
                                  "AND LOCATE(?, data) > 0";
    }
    void filterSqlPerDialect()
    {
        QFETCH(QString, driver);
        QFETCH(QString, expected);
        const Dialect *d = Dialect::forDriver(driver);
        EventFilter f;
        f.status = EventStatus::Failed;
        f.type = QStringLiteral("order.created");
        f.errorContains = QStringLiteral("503");
        f.createdFrom = QDateTime::fromMSecsSinceEpoch(86400000, Qt::UTC);
        f.payloadContains = QByteArray("\x00\xff", 2);
        const detail::Where w = detail::whereFor(f, *d);
        QCOMPARE(w.sql(), expected);
        QCOMPARE(w.values.size(), 5);
        QCOMPARE(w.values.at(0).toString(), QStringLiteral("failed"));
        QCOMPARE(w.values.at(4).toByteArray(), QByteArray("\x00\xff", 2));
        // Each database's own representation of the time.
        const QVariant time = w.values.at(3);
        if (driver == QLatin1String("QSQLITE"))
            QCOMPARE(time.toLongLong(), 86400000);
        else if (driver == QLatin1String("QMYSQL"))
            QCOMPARE(time.toString(), QStringLiteral("1970-01-02 00:00:00.000"));
        else
            QCOMPARE(time.toDateTime(), QDateTime::fromMSecsSinceEpoch(86400000, Qt::UTC));
    }

    // A route's type patterns, '*' the only wildcard: GLOB patterns on SQLite ('?' and '[' as one-character
    // classes), LIKE patterns (the name's '%' and '_' escaped) on the servers.
    void routeTypeConditionPerDialect()
    {
        const QStringList globs{QStringLiteral("order.*"), QStringLiteral("a_b%c?[x]")};
        QVERIFY(Dialect::forDriver(QStringLiteral("QSQLITE"))
                    ->typeCondition(globs)
                    .contains(QStringLiteral(R"('["order.*","a_b%c[?][[]x]"]')")));
        QVERIFY(Dialect::forDriver(QStringLiteral("QPSQL"))
                    ->typeCondition(globs)
                    .contains(QStringLiteral(R"('["order.%","a\\_b\\%c?[x]"]')")));
        // MySQL string literals take backslash escapes: each is doubled once more.
        QVERIFY(Dialect::forDriver(QStringLiteral("QMYSQL"))
                    ->typeCondition(globs)
                    .contains(QStringLiteral(R"('["order.%","a\\\\_b\\\\%c?[x]"]')")));
        // A quote in a pattern stays inside the literal.
        QVERIFY(Dialect::forDriver(QStringLiteral("QPSQL"))->typeCondition({QStringLiteral("it's")}).contains("it''s"));
    }

    // Sequence lists: a bound JSON array, or integer literals where the dialect inlines them.
    void sequenceLists()
    {
        const auto sqlite = detail::withSequences(
            Dialect::forDriver(QStringLiteral("QSQLITE"))->sql(QStringLiteral("ids-by-sequence")), {3, 1});
        QVERIFY(sqlite.sql.contains(QStringLiteral("json_each(?)")));
        QCOMPARE(sqlite.json.value_or(QString()), QStringLiteral("[3,1]"));
        const auto mysql = detail::withSequences(
            Dialect::forDriver(QStringLiteral("QMYSQL"))->sql(QStringLiteral("ids-by-sequence")), {3, 1});
        QVERIFY2(mysql.sql.endsWith(QStringLiteral("WHERE seq IN (3,1)")), qPrintable(mysql.sql));
        QVERIFY(!mysql.json);
        const auto none = detail::withSequences(
            Dialect::forDriver(QStringLiteral("QMYSQL"))->sql(QStringLiteral("ids-by-sequence")), {});
        QVERIFY(none.sql.endsWith(QStringLiteral("IN (NULL)")));
    }

    void mysqlUrls()
    {
        // A TLS file must be readable: a missing one is refused, never dropped (issue 26).
        auto missing =
            ConnectionSpec::fromUrl(QStringLiteral("mysql://app@db.example/shop?ssl_ca=/nonexistent/ca.pem"));
        QVERIFY(!missing.isOk());
        QVERIFY2(missing.error().message().contains(QStringLiteral("cannot be read")),
            qPrintable(missing.error().message()));
        QTemporaryDir dir;
        const QString ca = dir.filePath(QStringLiteral("ca.pem"));
        QFile caFile(ca);
        QVERIFY(caFile.open(QIODevice::WriteOnly));
        caFile.close();
        auto spec = ConnectionSpec::fromUrl(
            QStringLiteral("mysql://app:s%3Bcret@db.example:3307/shop?ssl_ca=%1&connect_timeout=9").arg(ca));
        QVERIFY(spec.isOk());
        QCOMPARE(spec->driver, QStringLiteral("QMYSQL"));
        QCOMPARE(spec->driver, QStringLiteral("QMYSQL"));
        QCOMPARE(spec->host, QStringLiteral("db.example"));
        QCOMPARE(spec->port, 3307);
        QCOMPARE(spec->user, QStringLiteral("app"));
        QCOMPARE(spec->password, QStringLiteral("s;cret"));
        QCOMPARE(spec->database, QStringLiteral("shop"));
        QCOMPARE(spec->options, QStringLiteral("SSL_CA=%1;MYSQL_OPT_CONNECT_TIMEOUT=9").arg(ca));
        QVERIFY(!spec->displayUrl().contains(QStringLiteral("cret")));
        QVERIFY(spec->displayUrl().startsWith(QStringLiteral("mysql://app:***@db.example:3307/shop?")));
        // The full URL goes back to the same place, parameters and all.
        auto again = ConnectionSpec::fromUrl(spec->toUrl());
        QVERIFY(again.isOk());
        QCOMPARE(again->options, spec->options);
        QCOMPARE(again->password, spec->password);
        auto maria = ConnectionSpec::fromUrl(QStringLiteral("mariadb://u@h/d"));
        QVERIFY(maria.isOk());
        QCOMPARE(maria->port, 3306);
        QCOMPARE(maria->options, QStringLiteral("MYSQL_OPT_CONNECT_TIMEOUT=5"));
        auto unknown = ConnectionSpec::fromUrl(QStringLiteral("mysql://u@h/d?sslmode=require"));
        QVERIFY(!unknown.isOk());
        QVERIFY(unknown.error().message().contains(QStringLiteral("unknown MySQL/MariaDB URL parameter 'sslmode'")));
        QVERIFY(!ConnectionSpec::fromUrl(QStringLiteral("mysql://u@h/")).isOk());
        QVERIFY(ConnectionSpec::fromUrl(QStringLiteral("oracle://u@h/d"))
                    .error()
                    .message()
                    .contains(QStringLiteral("use sqlite:, postgresql: or mysql:")));
    }

    // A connection of a driver the outbox does not run on is refused with its name, never used as SQLite.
    // libpq's multi-host form (issue 26): the hosts and ports go to libpq as its lists, the URL shown and handed
    // on is the same list, and a malformed entry is refused by name.
    void postgresqlSeveralHosts()
    {
        auto spec = ConnectionSpec::fromUrl(QStringLiteral(
            "postgresql://app:pw@db1.example:5432,db2.example:5433,[::1]/shop?target_session_attrs=read-write"));
        QVERIFY2(spec.isOk(), qPrintable(spec.isOk() ? QString() : spec.error().message()));
        QCOMPARE(spec->host, QStringLiteral("db1.example,db2.example,::1"));
        QCOMPARE(spec->port, -1);
        QCOMPARE(spec->user, QStringLiteral("app"));
        QCOMPARE(spec->password, QStringLiteral("pw"));
        QCOMPARE(spec->database, QStringLiteral("shop"));
        QCOMPARE(
            spec->options, QStringLiteral("port='5432,5433,5432';connect_timeout=5;target_session_attrs='read-write'"));
        QCOMPARE(spec->displayUrl(),
            QStringLiteral("postgresql://app:***@db1.example:5432,db2.example:5433,[::1]:5432/shop"
                           "?target_session_attrs=read-write"));
        auto again = ConnectionSpec::fromUrl(spec->toUrl());
        QVERIFY(again.isOk());
        QCOMPARE(again->host, spec->host);
        QCOMPARE(again->options, spec->options);
        QCOMPARE(again->password, QStringLiteral("pw"));
        auto bad = ConnectionSpec::fromUrl(QStringLiteral("postgresql://app@db1:5432,db2:x/shop"));
        QVERIFY(!bad.isOk());
        QVERIFY2(bad.error().message().contains(QStringLiteral("'db2:x' in the host list")),
            qPrintable(bad.error().message()));
        QVERIFY(!ConnectionSpec::fromUrl(QStringLiteral("postgresql://app@db1,,db2/shop")).isOk());
    }

    void unknownDriverIsRefused()
    {
        {
            QSqlDatabase odbc = QSqlDatabase::addDatabase(QStringLiteral("QODBC"), QStringLiteral("odbc"));
            odbc.setDatabaseName(QStringLiteral("dsn"));
            const ConnectionSpec spec = ConnectionSpec::fromDatabase(odbc);
            QCOMPARE(spec.driver, QStringLiteral("QODBC"));
            auto storage = Storage::open(spec);
            QVERIFY(!storage.isOk());
            QCOMPARE(storage.error().code(), Error::Unsupported);
            QVERIFY2(storage.error().message().contains(QStringLiteral(
                         "the Qt SQL driver 'QODBC' is not one the outbox runs on (QSQLITE, QPSQL, QMYSQL)")),
                qPrintable(storage.error().message()));
            QVERIFY(!Storage::probe(spec).isOk());
            QCOMPARE(Storage::migrate(odbc).code(), Error::Unsupported);
            OutboxEvent e;
            e.id = QStringLiteral("x");
            QCOMPARE(Storage::insertEvent(odbc, e).code(), Error::Unsupported);
            QCOMPARE(Storage::beginWrite(odbc).code(), Error::Unsupported);
        }
        QSqlDatabase::removeDatabase(QStringLiteral("odbc"));
        // Qt's other name for its MySQL driver is MySQL's dialect, not an unknown driver.
        {
            QSqlDatabase maria = QSqlDatabase::addDatabase(QStringLiteral("QMARIADB"), QStringLiteral("maria"));
            maria.setHostName(QStringLiteral("db.example"));
            maria.setDatabaseName(QStringLiteral("shop"));
            const ConnectionSpec spec = ConnectionSpec::fromDatabase(maria);
            QCOMPARE(spec.driver, QStringLiteral("QMYSQL"));
            QVERIFY(!spec.isFile());
            QVERIFY2(spec.displayUrl().startsWith(QStringLiteral("mysql://db.example")), qPrintable(spec.displayUrl()));
        }
        QSqlDatabase::removeDatabase(QStringLiteral("maria"));
        QVERIFY(ConnectionSpec::sqlite(QStringLiteral("a.db")).isFile());
    }
};

QTEST_GUILESS_MAIN(TestDialects)
#include "tst_dialects.moc"
