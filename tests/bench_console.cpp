// SPDX-License-Identifier: MIT
// outbox-console-bench: the console on an outbox of 1,000,000 events (a benchmark, not a test).
//
// Measures, with the real main window on the offscreen platform:
//   first_rows_ms      open the outbox -> the first rows are on screen with their attributes (aim < 1 s)
//   status_filter_ms   click the Failed tab -> its first rows are on screen (aim < 300 ms)
//   type_filter_ms     type a type filter and press Enter -> its first rows are on screen (aim < 300 ms)
//   failure_groups_ms  Refresh in Failures by cause -> the groups are on screen (aim < 300 ms)
//   find_by_id_ms      type an event id in the id box and press Enter -> its row is on screen (aim < 300 ms)
//   groups_find_max_stall_ms the longest the GUI thread was away during those two (aim < 50 ms)
//   json_search_ms     a `data.amount = 500.5` payload search over the newest 100,000 (baseline: the same
//                      search as plain text), and json_search_max_stall_ms during both
//   rate_history_ms    the rate chart's hour before, read at open (baseline: counting the newest 200,000)
//   scroll_max_stall_ms the longest the GUI thread did not return to its event loop while the table was
//                      scrolled from top to bottom in 200 jumps, each waiting for its rows (aim < 50 ms)
//   rss_mb             resident memory after all that (aim < 200 MB)
// Baselines from the same run: a bare QSqlQuery reading the first 100 rows, and one reading all 1,000,000
// sequence numbers, on the same file.
//
//   outbox-console-bench [--rows N] [--db FILE]   (the file is made once and reused)
//   outbox-console-bench --format romancy [--rows N] [--db FILE | --url postgresql://… | --url mysql://…]
//       the same on a romancy/edda outbox_events table (a foreign outbox), in a file or in the (empty)
//       database the URL names, filled once

#include "eventbrowser.h"
#include "eventmodel.h"
#include "failuregroupsview.h"
#include "procstats.h"
#include "mainwindow.h"
#include "session.h"
#include "storage.h"
#include "testsupport.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLineEdit>
#include <QPushButton>
#include <QTableWidget>
#include <QScrollBar>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QTabBar>
#include <QTableView>
#include <QTest>
#include <QTimer>
#include <QUuid>

#include <sqlite3.h>

#include <cstdio>

using namespace outbox;

namespace {

// Fills the outbox file with n events through the C API (fast), in a realistic mix of states and types.
bool makeOutbox(const QString &path, int n)
{
    {
        auto storage = Storage::open(ConnectionSpec::sqlite(path));
        if (!storage.isOk()) {
            fprintf(stderr, "%s\n", qPrintable(storage.error().message()));
            return false;
        }
    }
    sqlite3 *db = nullptr;
    if (sqlite3_open(path.toUtf8().constData(), &db) != SQLITE_OK)
        return false;
    sqlite3_exec(db, "PRAGMA synchronous=OFF; BEGIN", nullptr, nullptr, nullptr);
    sqlite3_stmt *insert = nullptr;
    sqlite3_prepare_v2(db,
        "INSERT INTO outbox_events (id, type, source, subject, content_type, data, ordering_key, status, attempts,"
        " next_attempt_at, last_error, last_http_status, created_at, sent_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        -1, &insert, nullptr);
    const qint64 start = QDateTime::currentMSecsSinceEpoch() - qint64(n) * 100;
    for (int i = 0; i < n; ++i) {
        const QByteArray id = createEventId().toUtf8();
        const QByteArray type = "com.example.type" + QByteArray::number(i % 20);
        const QByteArray subject = "order-" + QByteArray::number(i / 3);
        const QByteArray data = "{\"orderId\":" + QByteArray::number(i) + ",\"amount\":" + QByteArray::number(i % 1000)
            + ".5,\"note\":\"bench\"}";
        const int kind = i % 10; // 7 sent, 2 pending, 1 failed
        const char *status = kind < 7 ? "sent" : kind < 9 ? "pending" : "failed";
        const qint64 created = start + qint64(i) * 100;
        sqlite3_bind_text(insert, 1, id.constData(), int(id.size()), SQLITE_TRANSIENT);
        sqlite3_bind_text(insert, 2, type.constData(), int(type.size()), SQLITE_TRANSIENT);
        sqlite3_bind_text(insert, 3, "/bench", -1, SQLITE_STATIC);
        sqlite3_bind_text(insert, 4, subject.constData(), int(subject.size()), SQLITE_TRANSIENT);
        sqlite3_bind_text(insert, 5, "application/json", -1, SQLITE_STATIC);
        sqlite3_bind_blob(insert, 6, data.constData(), int(data.size()), SQLITE_TRANSIENT);
        sqlite3_bind_null(insert, 7);
        sqlite3_bind_text(insert, 8, status, -1, SQLITE_STATIC);
        sqlite3_bind_int(insert, 9, kind < 9 ? (kind < 7 ? 1 : 0) : 5);
        sqlite3_bind_int64(insert, 10, created);
        if (kind == 9) { // one cause, in 400 texts: the failure groups merge them
            const QByteArray error = "HTTP 503 Service Unavailable: upstream timed out after "
                + QByteArray::number(100 + (i / 10) % 400) + " ms";
            sqlite3_bind_text(insert, 11, error.constData(), int(error.size()), SQLITE_TRANSIENT);
            sqlite3_bind_int(insert, 12, 503);
        } else {
            sqlite3_bind_null(insert, 11);
            kind < 7 ? sqlite3_bind_int(insert, 12, 200) : sqlite3_bind_null(insert, 12);
        }
        sqlite3_bind_int64(insert, 13, created);
        kind < 7 ? sqlite3_bind_int64(insert, 14, created + 5) : sqlite3_bind_null(insert, 14);
        if (sqlite3_step(insert) != SQLITE_DONE) {
            fprintf(stderr, "insert failed: %s\n", sqlite3_errmsg(db));
            return false;
        }
        sqlite3_reset(insert);
    }
    sqlite3_finalize(insert);
    sqlite3_exec(db, "COMMIT; ANALYZE", nullptr, nullptr, nullptr);
    sqlite3_close(db);
    return true;
}

// Fills a romancy/edda outbox_events table with n events, the same mix of states and types as makeOutbox():
// 7 in 10 published, 2 pending, 1 failed. SQLite through the C API; a server by one INSERT ... SELECT.
bool makeRomancyOutbox(const ConnectionSpec &spec, int n)
{
    if (spec.isFile()) {
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("fill"));
            db.setDatabaseName(spec.database);
            db.open();
            testsupport::createRomancyTable(db, spec.driver);
            db.close();
        }
        QSqlDatabase::removeDatabase(QStringLiteral("fill"));
        sqlite3 *db = nullptr;
        if (sqlite3_open(spec.database.toUtf8().constData(), &db) != SQLITE_OK)
            return false;
        sqlite3_exec(db, "PRAGMA synchronous=OFF; BEGIN", nullptr, nullptr, nullptr);
        sqlite3_stmt *insert = nullptr;
        sqlite3_prepare_v2(db,
            "INSERT INTO outbox_events (event_id, event_type, event_source, event_data, created_at, published_at,"
            " status, retry_count, last_error) VALUES (?,?,'/bench',?,?,?,?,?,?)",
            -1, &insert, nullptr);
        const QDateTime start = QDateTime::currentDateTimeUtc().addSecs(-qint64(n) / 10);
        for (int i = 0; i < n; ++i) {
            const QByteArray id = QUuid::createUuid().toByteArray(QUuid::WithoutBraces);
            const QByteArray type = "com.example.type" + QByteArray::number(i % 20);
            const QByteArray data = "{\"orderId\":" + QByteArray::number(i) + ",\"note\":\"bench\"}";
            const int kind = i % 10;
            const QByteArray created =
                start.addMSecs(qint64(i) * 100).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")).toUtf8();
            sqlite3_bind_text(insert, 1, id.constData(), int(id.size()), SQLITE_TRANSIENT);
            sqlite3_bind_text(insert, 2, type.constData(), int(type.size()), SQLITE_TRANSIENT);
            sqlite3_bind_text(insert, 3, data.constData(), int(data.size()), SQLITE_TRANSIENT);
            sqlite3_bind_text(insert, 4, created.constData(), int(created.size()), SQLITE_TRANSIENT);
            kind < 7 ? sqlite3_bind_text(insert, 5, created.constData(), int(created.size()), SQLITE_TRANSIENT)
                     : sqlite3_bind_null(insert, 5);
            sqlite3_bind_text(insert, 6, kind < 7 ? "published" : kind < 9 ? "pending" : "failed", -1, SQLITE_STATIC);
            sqlite3_bind_int(insert, 7, kind == 9 ? 5 : 0);
            kind == 9 ? sqlite3_bind_text(insert, 8, "HTTP 503 Service Unavailable", -1, SQLITE_STATIC)
                      : sqlite3_bind_null(insert, 8);
            if (sqlite3_step(insert) != SQLITE_DONE) {
                fprintf(stderr, "insert failed: %s\n", sqlite3_errmsg(db));
                return false;
            }
            sqlite3_reset(insert);
        }
        sqlite3_finalize(insert);
        sqlite3_exec(db, "COMMIT; ANALYZE", nullptr, nullptr, nullptr);
        sqlite3_close(db);
        return true;
    }
    const bool pg = spec.driver == QLatin1String("QPSQL");
    QSqlDatabase db = testsupport::openConnection(spec, QStringLiteral("fill"));
    testsupport::createRomancyTable(db, spec.driver);
    QSqlQuery q(db);
    const QString rows = pg
        ? QStringLiteral("SELECT g FROM generate_series(0, %1) g").arg(n - 1)
        : QStringLiteral("WITH RECURSIVE s(g) AS (SELECT 0 UNION ALL SELECT g + 1 FROM s WHERE g < %1)"
                         " SELECT g FROM s")
              .arg(n - 1);
    const QString id = pg ? QStringLiteral("md5(g::text)::uuid::text") : QStringLiteral("UUID()");
    const QString created = pg ? QStringLiteral("now() - (%1 - g) * interval '100 milliseconds'").arg(n)
                               : QStringLiteral("NOW(3) - INTERVAL ((%1 - g) * 100000) MICROSECOND").arg(n);
    const QString sql = QStringLiteral(
        "INSERT INTO outbox_events (event_id, event_type, event_source, event_data, created_at, "
        "published_at, status, retry_count, last_error) SELECT %1, CONCAT('com.example.type', %2), "
        "'/bench', CONCAT('{\"orderId\":', %2, ',\"note\":\"bench\"}'), %3, CASE WHEN MOD(g, 10) < 7 THEN %3 "
        "END, CASE WHEN MOD(g, 10) < 7 THEN 'published' WHEN MOD(g, 10) < 9 THEN 'pending' ELSE "
        "'failed' END, CASE WHEN MOD(g, 10) = 9 THEN 5 ELSE 0 END, CASE WHEN MOD(g, 10) = 9 THEN "
        "'HTTP 503 Service Unavailable' END FROM (%4) AS numbers")
                            .arg(id, QStringLiteral("MOD(g, 20)"), created, rows)
                            .replace(QStringLiteral("CONCAT('com.example.type', MOD(g, 20))"),
                                pg ? QStringLiteral("'com.example.type' || (g % 20)")
                                   : QStringLiteral("CONCAT('com.example.type', MOD(g, 20))"));
    if (!pg)
        q.exec(QStringLiteral("SET SESSION max_recursive_iterations = 100000000"));
    if (!q.exec(sql)) {
        fprintf(stderr, "fill failed: %s\n", qPrintable(q.lastError().text()));
        return false;
    }
    q.exec(pg ? QStringLiteral("ANALYZE outbox_events") : QStringLiteral("ANALYZE TABLE outbox_events"));
    return true;
}

// Records the longest time the event loop was away between two turns.
class StallMonitor : public QObject
{
public:
    StallMonitor()
    {
        m_timer.setInterval(0);
        connect(&m_timer, &QTimer::timeout, this, [this] {
            const qint64 now = m_clock.nsecsElapsed();
            if (m_last > 0)
                m_max = qMax(m_max, now - m_last);
            m_last = now;
        });
    }
    void start()
    {
        m_max = 0;
        m_last = 0;
        m_clock.start();
        m_timer.start();
    }
    double stop()
    {
        m_timer.stop();
        return double(m_max) / 1e6;
    }

private:
    QTimer m_timer;
    QElapsedTimer m_clock;
    qint64 m_last = 0;
    qint64 m_max = 0;
};

bool waitFor(const std::function<bool()> &condition, int timeoutMs = 60000)
{
    return QTest::qWaitFor(condition, timeoutMs);
}

void print(const QString &name, double value, const QString &unit, const QString &aim, double baseline = -1)
{
    QJsonObject o{{QStringLiteral("scenario"), name}, {QStringLiteral("value"), value}, {QStringLiteral("unit"), unit},
        {QStringLiteral("aim"), aim}};
    if (baseline > 0) {
        o.insert(QStringLiteral("baseline"), baseline);
        o.insert(QStringLiteral("ratio"), value / baseline);
    }
    printf("%s\n", QJsonDocument(o).toJson(QJsonDocument::Compact).constData());
    fflush(stdout);
}

} // namespace

int main(int argc, char *argv[])
{
    qputenv(
        "QT_QPA_PLATFORM", qgetenv("QT_QPA_PLATFORM").isEmpty() ? QByteArray("offscreen") : qgetenv("QT_QPA_PLATFORM"));
    QApplication app(argc, argv);
    QStandardPaths::setTestModeEnabled(true);
    QCommandLineParser parser;
    parser.addOption({QStringLiteral("rows"), QStringLiteral("Events in the outbox."), QStringLiteral("N"),
        QStringLiteral("1000000")});
    parser.addOption({QStringLiteral("db"), QStringLiteral("The outbox file (made when missing)."),
        QStringLiteral("FILE"), QStringLiteral("console-bench.db")});
    parser.addOption({QStringLiteral("format"), QStringLiteral("ours (default) or romancy."), QStringLiteral("F"),
        QStringLiteral("ours")});
    parser.addOption({QStringLiteral("url"), QStringLiteral("romancy: an empty database on a server instead."),
        QStringLiteral("URL")});
    parser.addHelpOption();
    parser.process(app);
    const int rows = parser.value(QStringLiteral("rows")).toInt();
    const bool romancy = parser.value(QStringLiteral("format")) == QLatin1String("romancy");
    QString path = QFileInfo(parser.value(QStringLiteral("db"))).absoluteFilePath();
    ConnectionSpec spec = ConnectionSpec::sqlite(path);
    if (parser.isSet(QStringLiteral("url"))) {
        auto parsed = ConnectionSpec::fromUrl(parser.value(QStringLiteral("url")));
        if (!parsed.isOk() || !romancy) {
            fprintf(stderr, "--url needs --format romancy and a database URL\n");
            return 2;
        }
        spec = *parsed;
        path = spec.toUrl();
    }
    if (romancy) {
        auto probe = Storage::probe(spec);
        if (!probe.isOk()) {
            fprintf(stderr, "%s\n", qPrintable(probe.error().message()));
            return 1;
        }
        if (probe->kind != ProbeResult::Kind::Foreign) {
            fprintf(stderr, "making a romancy outbox of %d events…\n", rows);
            if (!makeRomancyOutbox(spec, rows))
                return 1;
        }
    } else if (!QFile::exists(path)) {
        fprintf(stderr, "making %s with %d events…\n", qPrintable(path), rows);
        if (!makeOutbox(path, rows))
            return 1;
    }

    // Baselines: bare queries on the GUI thread, the least any viewer must do.
    double firstBaseline = 0, scanBaseline = 0, groupsBaseline = 0, idBaseline = 0;
    QString middleId; // an event half way in, to find by id
    {
        QSqlDatabase db = testsupport::openConnection(spec, QStringLiteral("baseline"));
        const QString order = !romancy ? QStringLiteral("seq DESC")
            : spec.isFile()            ? QStringLiteral("rowid DESC")
                                       : QStringLiteral("created_at DESC, event_id DESC");
        QElapsedTimer t;
        t.start();
        QSqlQuery q(db);
        q.setForwardOnly(true);
        q.exec(romancy ? QStringLiteral("SELECT event_id, event_type, event_source, status, retry_count, last_error, "
                                        "created_at FROM outbox_events ORDER BY %1 LIMIT 100")
                             .arg(order)
                       : QStringLiteral("SELECT seq, id, type, source, subject, status, attempts, last_http_status, "
                                        "last_error, created_at FROM outbox_events ORDER BY seq DESC LIMIT 100"));
        while (q.next()) { }
        firstBaseline = double(t.nsecsElapsed()) / 1e6;
        t.restart();
        q.exec(QStringLiteral("SELECT %1 FROM outbox_events ORDER BY %2")
                   .arg(romancy ? QStringLiteral("event_id") : QStringLiteral("seq"), order));
        qint64 n = 0;
        while (q.next())
            n += !q.value(0).isNull();
        scanBaseline = double(t.nsecsElapsed()) / 1e6;
        // The least a failure summary costs: counting the failed rows per type and error in the database.
        t.restart();
        q.exec(romancy ? QStringLiteral("SELECT event_type, last_error, COUNT(*) FROM outbox_events WHERE status IN "
                                        "('failed', 'invalid', 'expired') GROUP BY event_type, last_error")
                       : QStringLiteral("SELECT type, last_http_status, COUNT(*) FROM outbox_events WHERE status = "
                                        "'failed' GROUP BY type, last_http_status"));
        while (q.next()) { }
        groupsBaseline = double(t.nsecsElapsed()) / 1e6;
        q.exec(QStringLiteral("SELECT %1 FROM outbox_events ORDER BY %2 LIMIT 1 OFFSET %3")
                   .arg(romancy ? QStringLiteral("event_id") : QStringLiteral("id"), order)
                   .arg(rows / 2));
        if (q.next())
            middleId = q.value(0).toString();
        t.restart();
        q.prepare(romancy ? QStringLiteral("SELECT event_id, event_type, status FROM outbox_events WHERE event_id = ?")
                          : QStringLiteral("SELECT seq, id, type, status FROM outbox_events WHERE id = ?"));
        q.addBindValue(middleId);
        q.exec();
        while (q.next()) { }
        idBaseline = double(t.nsecsElapsed()) / 1e6;
        q.finish();
        db.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("baseline"));

    ui::MainWindow window;
    window.resize(1400, 900);
    window.show();
    ui::EventTableModel *model = window.eventBrowser()->model();
    auto onScreen = [&] { return model->rowCount() > 0 && model->eventAt(0) != nullptr; };

    StallMonitor stalls;
    QElapsedTimer clock;
    clock.start();
    window.openLocation(path);
    if (!waitFor([&] { return onScreen(); }))
        return 1;
    const double firstRows = double(clock.nsecsElapsed()) / 1e6;
    print(QStringLiteral("first_rows_ms"), firstRows, QStringLiteral("ms"), QStringLiteral("< 1000"), firstBaseline);
    if (!waitFor([&] { return !model->isLoading(); }))
        return 1;
    const double fullLoad = double(clock.nsecsElapsed()) / 1e6;
    print(QStringLiteral("full_scan_ms"), fullLoad, QStringLiteral("ms"), QStringLiteral("(background)"), scanBaseline);
    const int allRows = model->rowCount();

    stalls.start();
    clock.restart();
    window.eventBrowser()->tabs()->setCurrentIndex(2); // Failed
    if (!waitFor([&] { return onScreen() && model->filter().status.has_value(); }))
        return 1;
    print(QStringLiteral("status_filter_ms"), double(clock.nsecsElapsed()) / 1e6, QStringLiteral("ms"),
        QStringLiteral("< 300"), firstBaseline);
    waitFor([&] { return !model->isLoading(); });

    window.eventBrowser()->tabs()->setCurrentIndex(0);
    waitFor([&] { return !model->isLoading(); });
    clock.restart();
    window.findChild<QLineEdit *>(QStringLiteral("typeFilter"))->setText(QStringLiteral("com.example.type7"));
    QTest::keyClick(window.findChild<QLineEdit *>(QStringLiteral("typeFilter")), Qt::Key_Return);
    if (!waitFor([&] { return onScreen() && !model->filter().type.isEmpty(); }))
        return 1;
    print(QStringLiteral("type_filter_ms"), double(clock.nsecsElapsed()) / 1e6, QStringLiteral("ms"),
        QStringLiteral("< 300"), firstBaseline);
    const double filterStall = stalls.stop();
    print(QStringLiteral("filter_max_stall_ms"), filterStall, QStringLiteral("ms"), QStringLiteral("< 50"));

    // Failures by cause: counted again from the database, then on screen.
    auto *groups = window.findChild<ui::FailureGroupsView *>(QStringLiteral("failureGroupsView"));
    auto *groupsTable = groups->findChild<QTableWidget *>(QStringLiteral("failureGroups"));
    waitFor([&] { return groupsTable->rowCount() > 0; });
    bool refreshed = false;
    QObject::connect(groups, &ui::FailureGroupsView::refreshed, [&] { refreshed = true; });
    waitFor([&] { return !model->isLoading(); });
    stalls.start();
    clock.restart();
    groups->findChild<QPushButton *>(QStringLiteral("refreshGroups"))->click();
    if (!waitFor([&] { return refreshed; }))
        return 1;
    print(QStringLiteral("failure_groups_ms"), double(clock.nsecsElapsed()) / 1e6, QStringLiteral("ms"),
        QStringLiteral("< 300"), groupsBaseline);
    qint64 grouped = 0;
    for (const FailureGroup &g : groups->groups())
        grouped += g.count;
    fprintf(stderr, "%lld failed events in %lld groups\n", qlonglong(grouped), qlonglong(groups->groups().size()));

    // Find by id: the id a log line gives, from every status.
    clock.restart();
    window.findChild<QLineEdit *>(QStringLiteral("typeFilter"))->clear();
    window.findChild<QLineEdit *>(QStringLiteral("idFilter"))->setText(middleId);
    QTest::keyClick(window.findChild<QLineEdit *>(QStringLiteral("idFilter")), Qt::Key_Return);
    if (!waitFor([&] { return onScreen() && !model->filter().find.isEmpty() && model->eventAt(0)->id == middleId; }))
        return 1;
    print(QStringLiteral("find_by_id_ms"), double(clock.nsecsElapsed()) / 1e6, QStringLiteral("ms"),
        QStringLiteral("< 300"), idBaseline);
    print(QStringLiteral("groups_find_max_stall_ms"), stalls.stop(), QStringLiteral("ms"), QStringLiteral("< 50"));
    window.findChild<QLineEdit *>(QStringLiteral("idFilter"))->clear();

    // Payload search over the newest 100,000: plain text (the baseline), then a data.path = value condition,
    // which the database narrows by the key and the console parses.
    auto *search = window.findChild<QLineEdit *>(QStringLiteral("searchEdit"));
    auto searchMs = [&](const QString &text, qint64 *found) {
        search->setText(text);
        QElapsedTimer t;
        t.start();
        QTest::keyClick(search, Qt::Key_Return);
        waitFor([&] { return model->isLoading(); }, 2000);
        waitFor([&] { return !model->isLoading(); });
        *found = model->rowCount();
        return double(t.nsecsElapsed()) / 1e6;
    };
    window.eventBrowser()->applyFilters(); // the find box emptied: every event again
    waitFor([&] { return !model->isLoading(); });
    if (!romancy) {
        qint64 plainFound = 0, jsonFound = 0;
        stalls.start();
        const double plain = searchMs(QStringLiteral("\"amount\":500.5,"), &plainFound);
        const double json = searchMs(QStringLiteral("data.amount = 500.5"), &jsonFound);
        print(QStringLiteral("json_search_ms"), json, QStringLiteral("ms"), QStringLiteral("(newest 100,000)"), plain);
        print(QStringLiteral("json_search_max_stall_ms"), stalls.stop(), QStringLiteral("ms"), QStringLiteral("< 50"));
        fprintf(stderr, "plain search found %lld, the JSON one %lld\n", qlonglong(plainFound), qlonglong(jsonFound));
        search->clear();
        window.eventBrowser()->applyFilters();
        // The rate chart's hour before, read when an outbox opens (on the background lane).
        auto storage = Storage::open(spec);
        if (storage.isOk()) {
            QElapsedTimer t;
            t.start();
            auto history = storage.value()->deliveryHistory(QDateTime::currentDateTimeUtc().addSecs(-3600), 10, 200000);
            const double ms = double(t.nsecsElapsed()) / 1e6;
            QSqlDatabase db = testsupport::openConnection(spec, QStringLiteral("historyBaseline"));
            t.restart();
            QSqlQuery q(db);
            q.exec(QStringLiteral(
                "SELECT COUNT(*) FROM outbox_events WHERE seq > (SELECT MAX(seq) FROM outbox_events) - 200000"));
            q.next();
            const double countMs = double(t.nsecsElapsed()) / 1e6;
            print(QStringLiteral("rate_history_ms"), ms, QStringLiteral("ms"), QStringLiteral("(background, at open)"),
                countMs);
            qint64 sent = 0;
            for (const DeliveryBucket &b : history.value())
                sent += b.sent;
            fprintf(
                stderr, "the hour before: %lld sent in %lld buckets\n", qlonglong(sent), qlonglong(history->size()));
        }
    }

    // Back to everything, then scroll from top to bottom.
    window.findChild<QLineEdit *>(QStringLiteral("typeFilter"))->clear();
    QTest::keyClick(window.findChild<QLineEdit *>(QStringLiteral("typeFilter")), Qt::Key_Return);
    waitFor([&] { return !model->isLoading() && model->rowCount() == allRows; });
    QScrollBar *bar = window.eventBrowser()->table()->verticalScrollBar();
    const int steps = 200;
    stalls.start();
    clock.restart();
    bool allShown = true;
    for (int i = 0; i <= steps; ++i) {
        bar->setValue(int(qint64(bar->maximum()) * i / steps));
        const int row = window.eventBrowser()->table()->rowAt(0);
        allShown &= waitFor([&] { return QTest::qWait(1), row >= 0 && model->eventAt(row) != nullptr; }, 5000);
    }
    const double scrollMs = double(clock.nsecsElapsed()) / 1e6;
    const double scrollStall = stalls.stop();
    print(QStringLiteral("scroll_max_stall_ms"), scrollStall, QStringLiteral("ms"), QStringLiteral("< 50"));
    print(QStringLiteral("scroll_step_ms"), scrollMs / (steps + 1), QStringLiteral("ms"),
        QStringLiteral("(rows shown per jump)"));
    print(QStringLiteral("rss_mb"), double(procstats::residentKiB()) / 1024.0, QStringLiteral("MB"),
        QStringLiteral("< 200"));
    fprintf(stderr, "%d rows; every jump showed its rows: %s\n", allRows, allShown ? "yes" : "NO");
    return allShown ? 0 : 1;
}
