// SPDX-License-Identifier: MIT
// Contention on one SQLite file: the console (live refresh on, retrying all failed events every few
// seconds), two outboxctl relayers and an enqueuing process, all at once for a minute
// (OUTBOX_CONTENTION_SECONDS). No "database is locked" (or any other error) may reach a user, and no event
// may be lost: every event enqueued arrives at the receiver.

#include "eventbrowser.h"
#include "eventmodel.h"
#include "mainwindow.h"
#include "receiver.h"
#include "testsupport.h"

#include <QApplication>
#include <QAbstractButton>
#include <QMessageBox>
#include <QProcess>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTabBar>
#include <QTest>

using namespace outbox;
using namespace outbox::ui;

class TestContention : public QObject
{
    Q_OBJECT

    QTemporaryDir m_home;

private Q_SLOTS:
    void initTestCase() { QVERIFY(testsupport::useOwnHome(m_home)); }

    void consoleRelayersAndEnqueuerShareOneFile()
    {
        QTemporaryDir dir;
        const ConnectionSpec spec = ConnectionSpec::sqlite(dir.filePath(QStringLiteral("shared.db")));
        testsupport::openStorage(spec);
        const QString url = spec.toUrl();
        const int seconds = qEnvironmentVariableIntValue("OUTBOX_CONTENTION_SECONDS") > 0
            ? qEnvironmentVariableIntValue("OUTBOX_CONTENTION_SECONDS")
            : 60;

        Receiver receiver;
        receiver.setRecording(Receiver::Recording::Full);
        QVERIFY(!receiver.listen());
        ReceiverFaults faults;
        faults.status = 404; // permanent: these events fail, and the console retries them
        faults.failRate = 0.1;
        receiver.setFaults(faults);

        // Two relayers.
        QList<QProcess *> relayers;
        for (int i = 0; i < 2; ++i) {
            auto *p = new QProcess(this);
            p->start(QStringLiteral(OUTBOXCTL_PATH),
                {"--db", url, "relay", "--target", receiver.url().toString(), "--batch-size", "50", "--retry-backoff",
                    "20", "--max-retries", "3", "--log-level", "error"});
            QVERIFY(p->waitForStarted());
            relayers.append(p);
        }

        // The console.
        MainWindow window;
        window.setLiveRefreshPaused(false);
        window.show();
        QSignalSpy opened(&window, &MainWindow::outboxOpened);
        window.openLocation(url);
        QVERIFY(opened.wait(10000));
        QCOMPARE(opened.first().first().toString(), QString());
        QStringList consoleProblems;
        connect(window.eventBrowser()->model(), &EventTableModel::errorOccurred, this,
            [&](const QString &m) { consoleProblems.append(m); });
        connect(window.statusBar(), &QStatusBar::messageChanged, this, [&](const QString &m) {
            if (m.contains(QLatin1String("locked")) || m.contains(QLatin1String("cannot"))
                || m.contains(QLatin1String("failed")))
                consoleProblems.append(m);
        });
        connect(&window, &MainWindow::actionFinished, this, [&](const QString &summary) {
            if (summary.contains(QLatin1String("Stopped")) || summary.contains(QLatin1String("failed")))
                consoleProblems.append(summary);
        });
        // Confirm every question the console asks.
        QTimer answer;
        connect(&answer, &QTimer::timeout, this, [] {
            if (auto *box = qobject_cast<QMessageBox *>(QApplication::activeModalWidget())) {
                if (QAbstractButton *yes = box->button(QMessageBox::Yes))
                    yes->click();
                else
                    box->accept();
            }
        });
        answer.start(20);
        window.eventBrowser()->tabs()->setCurrentIndex(2); // Failed

        // The enqueuer: batches of 100 events, one process each, at most one batch per 100 ms (about 1,000
        // events a second), for the whole time.
        int enqueued = 0;
        QStringList enqueueProblems;
        QElapsedTimer clock;
        clock.start();
        QElapsedTimer sinceRetry;
        sinceRetry.start();
        int batch = 0;
        QProcess enqueuer;
        auto startBatch = [&] {
            QByteArray lines;
            for (int i = 0; i < 100; ++i)
                lines += "{\"type\":\"com.example.contention\",\"source\":\"/test\",\"data\":{\"batch\":"
                    + QByteArray::number(batch) + ",\"i\":" + QByteArray::number(i) + "}}\n";
            ++batch;
            enqueuer.start(QStringLiteral(OUTBOXCTL_PATH), {"--db", url, "enqueue", "--jsonl", "-"});
            enqueuer.write(lines);
            enqueuer.closeWriteChannel();
        };
        startBatch();
        QElapsedTimer sinceBatch;
        sinceBatch.start();
        while (clock.elapsed() < seconds * 1000) {
            QTest::qWait(20);
            if (enqueuer.state() == QProcess::NotRunning && sinceBatch.elapsed() >= 100) {
                sinceBatch.restart();
                const QByteArray err = enqueuer.readAllStandardError();
                if (enqueuer.exitCode() != 0 || !err.isEmpty())
                    enqueueProblems.append(QString::fromUtf8(err));
                else
                    enqueued += enqueuer.readAllStandardOutput().trimmed().toInt();
                startBatch();
            }
            if (sinceRetry.elapsed() > 4000 && !window.eventBrowser()->model()->isLoading()) {
                window.runAction(MainWindow::Action::Retry, MainWindow::Scope::AllMatching);
                sinceRetry.restart();
            }
        }
        if (enqueuer.state() != QProcess::NotRunning)
            QVERIFY(enqueuer.waitForFinished(30000));
        if (enqueuer.exitCode() == 0 && enqueuer.readAllStandardError().isEmpty())
            enqueued += enqueuer.readAllStandardOutput().trimmed().toInt();

        // Then a healthy receiver, one last retry from the console, and everything must arrive.
        receiver.setFaults({});
        testsupport::AppConnection app(spec);
        auto sent = [&] {
            return app.scalar(QStringLiteral("SELECT COUNT(*) FROM outbox_events WHERE status = 'sent'")).toInt();
        };
        QElapsedTimer drain;
        drain.start();
        while (sent() < enqueued && drain.elapsed() < 180000) {
            QTest::qWait(200);
            if (sinceRetry.elapsed() > 4000 && !window.eventBrowser()->model()->isLoading()) {
                window.runAction(MainWindow::Action::Retry, MainWindow::Scope::AllMatching);
                sinceRetry.restart();
            }
        }
        QCOMPARE(sent(), enqueued);
        answer.stop();
        for (QProcess *p : relayers) {
            p->terminate();
            QVERIFY(p->waitForFinished(30000));
        }
        // Delivered: answered 2xx (events answered 404 come again after the console's retry).
        QSet<QString> ids;
        int delivered = 0;
        for (const ReceivedRequest &r : receiver.requests()) {
            if (r.replyStatus < 200 || r.replyStatus > 299)
                continue;
            for (const ReceivedEvent &e : r.decoded.events) {
                ids.insert(e.event.id);
                ++delivered;
            }
        }
        const int duplicates = delivered - int(ids.size());
        qInfo("%d s: %d events enqueued in %d processes, %d received (%d duplicates); console retries every 4 s",
            seconds, enqueued, batch, int(ids.size()), duplicates);
        QCOMPARE(int(ids.size()), enqueued); // nothing lost
        QVERIFY2(enqueueProblems.isEmpty(), qPrintable(enqueueProblems.join(QLatin1Char('\n'))));
        for (QProcess *p : relayers) {
            const QByteArray err = p->readAllStandardError();
            // Failed events (the receiver's 404s) are logged at "error", with the start and stop lines; nothing
            // else may be.
            for (const QByteArray &line : err.split('\n')) {
                if (!line.isEmpty() && !line.startsWith("outboxctl: failed ")
                    && !line.startsWith("outboxctl: relaying ") && !line.startsWith("outboxctl: stopped: "))
                    QFAIL(line.constData());
            }
        }
        QVERIFY2(consoleProblems.isEmpty(), qPrintable(consoleProblems.join(QLatin1Char('\n'))));
        QVERIFY(enqueued > 1000);
    }
};

QTEST_MAIN(TestContention)
#include "tst_contention.moc"
