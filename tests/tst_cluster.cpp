// SPDX-License-Identifier: MIT
// Several relayer processes on one outbox: nothing lost, no duplicates, per-key order, crashes and a database
// restart. Relayers are real outboxctl processes; the receiver records every id it accepts.

#include "receiver.h"
#include "sendevent.h"
#include "testsupport.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonObject>
#include <QProcess>
#include <QRandomGenerator>
#include <QSqlQuery>
#include <QThread>

#include <csignal>
#include <functional>

using namespace outbox;

class TestCluster : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    ConnectionSpec m_spec;
    std::unique_ptr<Storage> m_storage;
    std::unique_ptr<Receiver> m_receiver;
    QList<QProcess *> m_relayers;

    QStringList enqueueMany(int count, int keys = 0)
    {
        testsupport::AppConnection app(m_spec);
        QSqlDatabase db = app.db();
        QStringList ids;
        for (int i = 0; i < count; ++i) {
            if (i % 1000 == 0)
                db.transaction();
            SendEventOptions o;
            if (keys > 0)
                o.orderingKey = QStringLiteral("key-%1").arg(i % keys);
            auto id = sendEventTransactional(db, QStringLiteral("cluster.test"), QStringLiteral("/cluster"),
                QJsonObject{{QStringLiteral("i"), i}}, o);
            if (!id.isOk())
                qFatal("enqueue failed: %s", qPrintable(id.error().message()));
            ids << *id;
            if (i % 1000 == 999 || i == count - 1)
                db.commit();
        }
        return ids;
    }

    QProcess *startRelayer(const QStringList &extra = {})
    {
        auto *p = new QProcess(this);
        p->setProcessChannelMode(QProcess::SeparateChannels);
        p->start(QStringLiteral(OUTBOXCTL_PATH),
            QStringList{"--db", m_spec.toUrl(), "relay", "--target", m_receiver->url().toString(), "--quiet",
                "--poll-interval", "50", "--max-backoff", "200"}
                + extra);
        if (!p->waitForStarted(5000))
            qFatal("cannot start a relayer");
        m_relayers << p;
        return p;
    }

    void stopRelayers()
    {
        for (QProcess *p : std::as_const(m_relayers)) {
            if (p->state() != QProcess::NotRunning) {
                ::kill(pid_t(p->processId()), SIGTERM);
                p->waitForFinished(15000);
            }
        }
    }

    qint64 sentCount()
    {
        auto s = m_storage->stats();
        if (!s.isOk()) { // the test's own connection may have gone with a server restart
            m_storage->reconnect();
            return -1;
        }
        return s->sent;
    }

    bool waitForSent(qint64 expected, int timeoutMs)
    {
        QElapsedTimer clock;
        clock.start();
        while (clock.elapsed() < timeoutMs) {
            if (sentCount() == expected)
                return true;
            QTest::qWait(100);
        }
        return false;
    }

    // Ids the receiver accepted (answered 2xx), in the order it accepted them.
    QStringList acceptedIds() const
    {
        QStringList ids;
        for (const ReceivedRequest &r : m_receiver->requests()) {
            if (r.replyStatus >= 200 && r.replyStatus < 300) {
                for (const ReceivedEvent &e : r.decoded.events)
                    ids << e.event.id;
            }
        }
        return ids;
    }

private Q_SLOTS:
    void init()
    {
        m_spec = testsupport::freshOutbox(m_dir);
        m_storage = testsupport::openStorage(m_spec);
        m_receiver = std::make_unique<Receiver>();
        QVERIFY(!m_receiver->listen().isError());
    }

    void cleanup()
    {
        stopRelayers();
        qDeleteAll(m_relayers);
        m_relayers.clear();
        m_receiver.reset();
        m_storage.reset();
    }

    void fourRelayersDeliverEverythingOnce()
    {
        const int n = 20000;
        const QStringList ids = enqueueMany(n);
        for (int i = 0; i < 4; ++i)
            startRelayer();
        QVERIFY2(waitForSent(n, 300000), qPrintable(QStringLiteral("sent %1 of %2").arg(sentCount()).arg(n)));
        stopRelayers();
        const QStringList accepted = acceptedIds();
        const QSet<QString> unique(accepted.begin(), accepted.end());
        qInfo("4 relayers, %d events: %lld received, %lld distinct, %lld duplicates", n, qint64(accepted.size()),
            qint64(unique.size()), qint64(accepted.size() - unique.size()));
        QCOMPARE(unique.size(), n);
        QCOMPARE(accepted.size(), n); // zero duplicates
        QCOMPARE(unique, QSet<QString>(ids.begin(), ids.end()));
        QCOMPARE(m_storage->stats()->pending, 0);
    }

    void killedRelayersLoseNothing()
    {
        const int n = 20000;
        const int batch = 50;
        const QStringList ids = enqueueMany(n);
        ReceiverFaults slow;
        slow.delayMs = 10; // long enough a run for several kills to land mid-work
        m_receiver->setFaults(slow);
        const QStringList args{
            "--batch-size", QString::number(batch), "--concurrency", "10", "--timeout", "1000", "--lease", "1000"};
        for (int i = 0; i < 4; ++i)
            startRelayer(args);
        int kills = 0;
        QElapsedTimer clock;
        clock.start();
        // SIGKILL a random relayer each time another tenth of the events has been sent, and start a new one in
        // its place. Kills follow progress, not the clock, so a fast machine (or database) gets as many as a
        // slow one: each lands while the relayers are busy.
        while (kills < 8 && clock.elapsed() < 120000) {
            const qint64 sent = sentCount();
            if (sent >= n * 9 / 10)
                break;
            if (sent < qint64(kills + 1) * n / 10) {
                QTest::qWait(10);
                continue;
            }
            QProcess *victim = m_relayers.at(m_relayers.size() - 1 - int(QRandomGenerator::global()->bounded(4)));
            if (victim->state() == QProcess::NotRunning)
                continue;
            ::kill(pid_t(victim->processId()), SIGKILL);
            victim->waitForFinished(5000);
            ++kills;
            startRelayer(args);
        }
        QVERIFY2(waitForSent(n, 300000), qPrintable(QStringLiteral("sent %1 of %2").arg(sentCount()).arg(n)));
        stopRelayers();
        const QStringList accepted = acceptedIds();
        const QSet<QString> unique(accepted.begin(), accepted.end());
        const qint64 duplicates = accepted.size() - unique.size();
        qInfo("%d kills, %d events: %lld distinct received, %lld duplicates (at most %d sent or in flight per kill)",
            kills, n, qint64(unique.size()), duplicates, batch + 10);
        QVERIFY(kills >= 3);
        QCOMPARE(unique, QSet<QString>(ids.begin(), ids.end())); // nothing lost
        // A kill costs again what was sent and not yet written (one batch at most) and what was in flight (the
        // concurrency); the batch claimed ahead had not started, and is sent once.
        QVERIFY2(duplicates <= qint64(kills) * (batch + 10), qPrintable(QString::number(duplicates)));
        testsupport::AppConnection app(m_spec);
        QCOMPARE(app.scalar(QStringLiteral("SELECT COUNT(*) FROM %1 WHERE lease_owner IS NOT NULL")
                                .arg(testsupport::eventsWithLeases()))
                     .toInt(),
            0);
        // Attempt history agrees with the rows: every sent row holds its delivering attempt (duration and
        // relayer), and no attempt that delivered was recorded twice.
        QCOMPARE(app.scalar("SELECT COUNT(*) FROM outbox_events WHERE status = 'sent' AND last_relayer IS NOT NULL"
                            " AND last_duration_ms IS NOT NULL")
                     .toInt(),
            n);
        QCOMPARE(app.scalar("SELECT COUNT(*) FROM outbox_attempts WHERE outcome = 'sent'").toInt(), 0);
    }

private:
    // How many pending events the relayer process `p` holds leases on (its owner names its pid).
    int heldBy(QProcess *p)
    {
        testsupport::AppConnection app(m_spec);
        return app
            .scalar(QStringLiteral("SELECT COUNT(*) FROM %1 WHERE status = 'pending' AND lease_owner LIKE '%:%2:%'")
                        .arg(testsupport::eventsWithLeases())
                        .arg(p->processId()))
            .toInt();
    }

    // Kills the database session of a relayer process: the one holding its relayer lock (PostgreSQL: an advisory
    // lock, pg_terminate_backend; MySQL/MariaDB: a named lock, KILL CONNECTION).
    static bool killRelayerSession(testsupport::AppConnection &app, QProcess *relayer)
    {
        if (!testsupport::isMysql())
            return app
                .scalar(QStringLiteral("SELECT pg_terminate_backend(l.pid) FROM pg_locks l JOIN outbox_relayers r ON "
                                       "l.locktype = 'advisory' AND CAST(l.objid AS bigint) = r.lock_key AND "
                                       "l.objsubid = 2 WHERE r.pid = %1")
                            .arg(relayer->processId()))
                .toBool();
        const qint64 id = app.scalar(QStringLiteral("SELECT IS_USED_LOCK(CONCAT('outbox_relayer:', DATABASE(), ':', "
                                                    "lock_key)) FROM outbox_relayers WHERE pid = %1")
                                         .arg(relayer->processId()))
                              .toLongLong();
        return id > 0 && QSqlQuery(app.db()).exec(QStringLiteral("KILL CONNECTION %1").arg(id));
    }

    // Starts a relayer and waits until it has registered.
    QProcess *startRegisteredRelayer(const QStringList &extra = {})
    {
        QProcess *p = startRelayer(extra);
        testsupport::AppConnection app(m_spec);
        QElapsedTimer clock;
        clock.start();
        while (app.scalar(QStringLiteral("SELECT COUNT(*) FROM outbox_relayers WHERE pid = %1").arg(p->processId()))
                   .toInt()
            == 0) {
            if (clock.elapsed() > 20000)
                qFatal("the relayer did not register");
            QTest::qWait(50);
        }
        return p;
    }

    // True once every thread of the process is stopped (state T in /proc), so no statement of it is half run.
    static bool isStopped(qint64 pid)
    {
        const QDir tasks(QStringLiteral("/proc/%1/task").arg(pid));
        const QStringList ids = tasks.entryList(QDir::Dirs | QDir::NoDotAndDotDot);
        for (const QString &id : ids) {
            QFile stat(tasks.filePath(id + QStringLiteral("/stat")));
            if (!stat.open(QIODevice::ReadOnly))
                continue; // a thread that has just ended
            const QByteArray line = stat.readAll();
            const qsizetype afterName = line.lastIndexOf(')');
            if (afterName < 0 || line.mid(afterName + 2, 1) != "T")
                return false;
        }
        return !ids.isEmpty();
    }

    // Freezes a relayer (SIGSTOP) between its writes. On SQLite a process frozen inside a write transaction
    // keeps the file's write lock and so stops every other writer, the relayer beside it included, until it
    // goes on: that is SQLite's locking, not a relayer's fault, and it is not what the freezing tests are about.
    // So on SQLite it is continued and frozen again until the write lock is free while it stands still.
    void freezeBetweenWrites(QProcess *p)
    {
        const pid_t pid = pid_t(p->processId());
        testsupport::AppConnection app(m_spec);
        const bool sqlite = !testsupport::isServer();
        if (sqlite)
            app.scalar(QStringLiteral("PRAGMA busy_timeout = 0"));
        for (int attempt = 0; attempt < 2000; ++attempt) {
            ::kill(pid, SIGSTOP);
            QElapsedTimer clock;
            clock.start();
            while (!isStopped(pid) && clock.elapsed() < 2000)
                QThread::usleep(200);
            if (!sqlite)
                return;
            QSqlQuery q(app.db());
            if (q.exec(QStringLiteral("BEGIN IMMEDIATE"))) {
                q.exec(QStringLiteral("ROLLBACK"));
                return;
            }
            ::kill(pid, SIGCONT);
            QThread::msleep(1 + attempt % 7);
        }
        qFatal("the relayer never stood still outside a write");
    }

#ifdef __SANITIZE_ADDRESS__
    static constexpr qint64 kTakeOverLimitMs = 10000; // the sanitizer slows the relayers, not the rules
#else
    static constexpr qint64 kTakeOverLimitMs = 5000;
#endif

private Q_SLOTS:
    // Issue 15: a relayer killed with events in hand, default lease: a relayer beside it sends them within
    // seconds (before, only once the leases ran out, minutes later).
    void killedRelayerIsTakenOverAtOnce()
    {
        const int n = 1500;
        const QStringList ids = enqueueMany(n);
        ReceiverFaults slow;
        slow.delayMs = 20;
        m_receiver->setFaults(slow);
        const QStringList defaults{"--poll-interval", "1000", "--max-backoff", "30000"}; // the relayer's own defaults
        QProcess *victim = startRelayer(defaults);
        QTRY_VERIFY_WITH_TIMEOUT(m_receiver->eventCount() >= 50, 20000);
        QProcess *survivor = startRegisteredRelayer(defaults);
        QTRY_VERIFY_WITH_TIMEOUT(heldBy(victim) >= 50, 10000);
        // What it holds as it dies (read just before): until now, these waited for their leases to run out.
        const QString held =
            QStringLiteral("status = 'pending' AND lease_owner LIKE '%:%1:%'").arg(victim->processId());
        testsupport::AppConnection app(m_spec);
        const QVariantList heldSeqs = [&] {
            QSqlQuery q(app.db());
            q.exec(QStringLiteral("SELECT seq FROM %1 WHERE ").arg(testsupport::eventsWithLeases()) + held);
            QVariantList list;
            while (q.next())
                list << q.value(0);
            return list;
        }();
        ::kill(pid_t(victim->processId()), SIGKILL);
        QElapsedTimer clock;
        clock.start();
        victim->waitForFinished(5000);
        QVERIFY(heldSeqs.size() >= 50);
        QStringList seqText;
        for (const QVariant &v : heldSeqs)
            seqText << v.toString();
        const QString sentOfHeld =
            QStringLiteral("SELECT COUNT(*) FROM outbox_events WHERE status = 'sent' AND seq IN (%1)")
                .arg(seqText.join(','));
        while (app.scalar(sentOfHeld).toInt() < heldSeqs.size() && clock.elapsed() < 60000)
            QTest::qWait(20);
        const qint64 recovered = clock.elapsed();
        QVERIFY2(waitForSent(n, 60000), qPrintable(QStringLiteral("sent %1 of %2").arg(sentCount()).arg(n)));
        const QStringList accepted = acceptedIds();
        const QSet<QString> unique(accepted.begin(), accepted.end());
        qInfo("killed a relayer holding %lld events: they were sent by another %lld ms after the kill; %lld duplicates",
            qint64(heldSeqs.size()), recovered, qint64(accepted.size() - unique.size()));
        QCOMPARE(unique, QSet<QString>(ids.begin(), ids.end()));
        QVERIFY2(recovered <= kTakeOverLimitMs, qPrintable(QString::number(recovered)));
        stopRelayers();
        const QString log = QString::fromUtf8(survivor->readAllStandardError());
        QVERIFY2(log.contains(QStringLiteral("is gone; released the")), qPrintable(log));
        QCOMPARE(
            app.scalar("SELECT COUNT(*) FROM outbox_relayers").toInt(), 0); // the gone one forgotten, the other left
    }

    // Issue 15: a relayer frozen (SIGSTOP) for three times its lease while another runs, then continued. Its
    // leases pass to the other; when it wakes it writes no result over the other's and starts no request
    // it no longer holds: duplicates only for what it had in flight when it was frozen.
    void frozenRelayerWritesNothingOverAnother()
    {
        const int n = 1500;
        const int concurrency = 4;
        const QStringList ids = enqueueMany(n);
        ReceiverFaults slow;
        slow.delayMs = 20;
        m_receiver->setFaults(slow);
        const QStringList args{"--lease", "2000", "--concurrency", QString::number(concurrency)};
        QProcess *frozen = startRelayer(args);
        QTRY_VERIFY_WITH_TIMEOUT(m_receiver->eventCount() >= 50, 20000);
        QTRY_VERIFY_WITH_TIMEOUT(heldBy(frozen) >= 50, 10000);
        freezeBetweenWrites(frozen);
        QProcess *other = startRegisteredRelayer(args);
        QTest::qWait(3 * 2000);
        ::kill(pid_t(frozen->processId()), SIGCONT);
        QVERIFY2(waitForSent(n, 120000), qPrintable(QStringLiteral("sent %1 of %2").arg(sentCount()).arg(n)));
        QTest::qWait(1000); // whatever the frozen one still does after waking
        stopRelayers();
        QCOMPARE(frozen->exitStatus(), QProcess::NormalExit);
        QCOMPARE(other->exitStatus(), QProcess::NormalExit);
        const QStringList accepted = acceptedIds();
        const QSet<QString> unique(accepted.begin(), accepted.end());
        const qint64 duplicates = accepted.size() - unique.size();
        qInfo("frozen for 3 leases: %d events, %lld duplicates (%d requests could be in flight)", n, duplicates,
            concurrency);
        QCOMPARE(unique, QSet<QString>(ids.begin(), ids.end())); // nothing lost
        QVERIFY2(duplicates <= concurrency, qPrintable(QString::number(duplicates)));
        testsupport::AppConnection app(m_spec);
        QCOMPARE(
            app.scalar("SELECT COUNT(*) FROM outbox_events WHERE status <> 'sent'").toInt(), 0); // nothing went back
        QCOMPARE(app.scalar(QStringLiteral("SELECT COUNT(*) FROM %1 WHERE lease_owner IS NOT NULL")
                                .arg(testsupport::eventsWithLeases()))
                     .toInt(),
            0);
        // Every delivering attempt written once, by the relayer that held the lease then.
        QCOMPARE(app.scalar("SELECT COUNT(*) FROM outbox_attempts WHERE outcome = 'sent'").toInt(), 0);
        QCOMPARE(app.scalar("SELECT COUNT(*) FROM outbox_events WHERE last_relayer IS NULL").toInt(), 0);
    }

    // Issue 26: a live relayer in another PID namespace on the same host (two containers sharing a SQLite
    // file, unshare --pid) is not judged gone by its pid: there it means another process. Its events are
    // neither released nor sent again while it runs.
    void relayerInAnotherPidNamespaceIsNotTakenOver()
    {
        if (testsupport::isServer())
            QSKIP("on a database server, liveness is the session's lock, not a pid");
        if (QProcess::execute(QStringLiteral("unshare"), {"--pid", "--fork", "--mount-proc", "true"}) != 0)
            QSKIP("unshare --pid needs root (or user namespaces) here");
        const int n = 20;
        const QStringList ids = enqueueMany(n);
        ReceiverFaults slow;
        slow.delayMs = 1500; // the first relayer holds its events while the other looks
        m_receiver->setFaults(slow);
        auto *contained = new QProcess(this);
        contained->start(QStringLiteral("unshare"),
            QStringList{"--pid", "--fork", "--mount-proc", QStringLiteral(OUTBOXCTL_PATH), "--db", m_spec.toUrl(),
                "relay", "--target", m_receiver->url().toString(), "--quiet", "--poll-interval", "50", "--concurrency",
                "20", "--lease", "20000"});
        QVERIFY(contained->waitForStarted(5000));
        m_relayers << contained;
        testsupport::AppConnection app(m_spec);
        QTRY_VERIFY_WITH_TIMEOUT(app.scalar(QStringLiteral("SELECT COUNT(*) FROM %1 WHERE lease_owner IS NOT NULL")
                                                .arg(testsupport::eventsWithLeases()))
                                     .toInt()
                == n,
            10000);
        QProcess *other = startRegisteredRelayer({"--lease", "20000"});
        QVERIFY(waitForSent(n, 30000));
        QTest::qWait(1000);
        // unshare ignores SIGTERM while it waits: the relayer inside is told to stop itself.
        QProcess::execute(QStringLiteral("pkill"), {"-TERM", "-P", QString::number(contained->processId())});
        QVERIFY(contained->waitForFinished(15000));
        stopRelayers();
        const QStringList accepted = acceptedIds();
        QCOMPARE(accepted.size(), n); // each once: 60 requests for 20 events before
        QCOMPARE(QSet<QString>(accepted.begin(), accepted.end()), QSet<QString>(ids.begin(), ids.end()));
        const QString log = QString::fromUtf8(other->readAllStandardError());
        QVERIFY2(!log.contains(QStringLiteral("is gone")), qPrintable(log));
    }

    // Issue 26: results are written as their answers arrive, not when the whole batch has finished. A relayer
    // frozen (SIGSTOP) or killed (SIGKILL) in the middle of a batch of 100, after the receiver has answered 40
    // of its requests, re-sends at most the requests that were on the wire (its concurrency), not the 40.
    void frozenMidBatchResendsOnlyWhatWasInFlight_data()
    {
        QTest::addColumn<int>("signal");
        QTest::newRow("SIGSTOP past the lease") << int(SIGSTOP);
        QTest::newRow("SIGKILL") << int(SIGKILL);
    }
    void frozenMidBatchResendsOnlyWhatWasInFlight()
    {
        QFETCH(int, signal);
        const int n = 500, concurrency = 6;
        const QStringList ids = enqueueMany(n);
        ReceiverFaults slow;
        slow.delayMs = 50;
        m_receiver->setFaults(slow);
        const QStringList args{"--lease", "3000", "--concurrency", QString::number(concurrency)};
        QProcess *first = startRegisteredRelayer(args);
        // Exactly when the receiver has seen its 40th request (on the receiver's thread, before it answers).
        const pid_t pid = pid_t(first->processId());
        QAtomicInt seen = 0;
        connect(
            m_receiver.get(), &Receiver::requestReceived, this,
            [&](const ReceivedRequest &) {
                if (seen.fetchAndAddOrdered(1) + 1 == 40)
                    ::kill(pid, signal);
            },
            Qt::DirectConnection);
        QTRY_VERIFY_WITH_TIMEOUT(seen.loadAcquire() >= 40, 20000);
        // Not waited for: on SQLite a relayer frozen inside a write holds the file's write lock until it goes on.
        QProcess *second = startRelayer(args);
        if (signal == SIGSTOP) {
            QTest::qWait(8000);
            ::kill(pid, SIGCONT);
        }
        QVERIFY2(waitForSent(n, 120000), qPrintable(QStringLiteral("sent %1 of %2").arg(sentCount()).arg(n)));
        QTest::qWait(1000);
        stopRelayers();
        QCOMPARE(second->exitStatus(), QProcess::NormalExit);
        const QStringList accepted = acceptedIds();
        const QSet<QString> unique(accepted.begin(), accepted.end());
        const qint64 duplicates = accepted.size() - unique.size();
        qInfo("%s after 40 answered requests of a batch of 100: %lld duplicates (%d requests could be in flight)",
            signal == SIGSTOP ? "frozen 8 s" : "killed", duplicates, concurrency);
        QCOMPARE(unique, QSet<QString>(ids.begin(), ids.end())); // nothing lost
        // On the wire: the requests in flight, and the answers read but not yet committed. Here the six
        // connections answer together, so the signal may fall between reading six answers and committing them
        // (about 1 ms); before results were written per answer, it was every answered request of the batch (40).
        QVERIFY2(duplicates <= 2 * concurrency, qPrintable(QString::number(duplicates)));
        testsupport::AppConnection app(m_spec);
        QCOMPARE(app.scalar("SELECT COUNT(*) FROM outbox_events WHERE status <> 'sent'").toInt(), 0);
    }

    // Issue 15, PostgreSQL: a live relayer whose server connection is killed reconnects; its events are not
    // claimed by another meanwhile. Then the same relayer killed together with its connection is taken over.
    void terminatedSessionIsNotTakenOver()
    {
        if (!testsupport::isServer())
            QSKIP("server sessions are a database server's matter");
        const int n = 1500;
        const QStringList ids = enqueueMany(n);
        ReceiverFaults slow;
        slow.delayMs = 20;
        m_receiver->setFaults(slow);
        const QStringList defaults{"--poll-interval", "1000", "--max-backoff", "30000"};
        QProcess *victim = startRelayer(defaults);
        QTRY_VERIFY_WITH_TIMEOUT(m_receiver->eventCount() >= 50, 20000);
        QProcess *other = startRegisteredRelayer(defaults);
        QTRY_VERIFY_WITH_TIMEOUT(heldBy(victim) >= 50, 10000);
        testsupport::AppConnection app(m_spec);
        QVERIFY(killRelayerSession(app, victim));
        QTest::qWait(4000); // longer than a take-over takes
        QCOMPARE(victim->state(), QProcess::Running);
        QVERIFY2(!QString::fromUtf8(other->readAllStandardError()).contains(QStringLiteral("is gone")),
            "a live relayer was taken over");
        QTRY_VERIFY_WITH_TIMEOUT(heldBy(victim) >= 50 || sentCount() == n, 10000);
        if (sentCount() < n) {
            // Now it goes for good: the process and its session.
            ::kill(pid_t(victim->processId()), SIGKILL);
            killRelayerSession(app, victim);
            victim->waitForFinished(5000);
        }
        QVERIFY2(waitForSent(n, 60000), qPrintable(QStringLiteral("sent %1 of %2").arg(sentCount()).arg(n)));
        stopRelayers();
        const QStringList accepted = acceptedIds();
        const QSet<QString> unique(accepted.begin(), accepted.end());
        qInfo("session killed, then the relayer: %lld duplicates", qint64(accepted.size() - unique.size()));
        QCOMPARE(unique, QSet<QString>(ids.begin(), ids.end()));
        const QString victimLog = QString::fromUtf8(victim->readAllStandardError());
        QVERIFY2(victimLog.contains(QStringLiteral("reconnected to")), qPrintable(victimLog));
    }

    // The session lost while the results are being written, and the first write after reconnecting refused (here:
    // the rows locked by another session for longer than the lock wait; on MariaDB a deadlock did it): the
    // results stay in hand and the relayer goes on, writing them once it can; nothing is sent twice.
    void writeRefusedAfterReconnectKeepsRelaying()
    {
        if (!testsupport::isServer())
            QSKIP("server sessions are a database server's matter");
        const int n = 200;
        const QStringList ids = enqueueMany(n);
        ReceiverFaults slow;
        slow.delayMs = 20;
        m_receiver->setFaults(slow);
        QProcess *relayer = startRegisteredRelayer({"--batch-size", QString::number(n), "--concurrency", "2", "--lease",
            "60000", "--poll-interval", "500", "--max-backoff", "1000"});
        QTRY_VERIFY_WITH_TIMEOUT(m_receiver->eventCount() >= 20, 20000);
        testsupport::AppConnection locker(m_spec);
        QSqlDatabase db = locker.db();
        QVERIFY(db.transaction());
        QSqlQuery lock(db);
        QVERIFY(lock.exec(QStringLiteral("SELECT seq FROM outbox_events FOR UPDATE")));
        // The write-back now waits for the rows; the relayer sends no more than its concurrency beyond what it
        // could write (results are written as answers arrive, and unwritten ones are bounded).
        const int before = m_receiver->eventCount();
        QTest::qWait(1500);
        QVERIFY2(m_receiver->eventCount() <= before + 2 * 2 + 2, qPrintable(QString::number(m_receiver->eventCount())));
        testsupport::AppConnection app(m_spec);
        QVERIFY(killRelayerSession(app, relayer));
        // Longer than the relayer's lock wait (10 s) after it reconnected, with room for a slow machine.
        QTest::qWait(15000);
        QVERIFY(db.rollback());
        QVERIFY2(waitForSent(n, 30000), qPrintable(QStringLiteral("sent %1 of %2").arg(sentCount()).arg(n)));
        QCOMPARE(relayer->state(), QProcess::Running);
        stopRelayers();
        const QString log = QString::fromUtf8(relayer->readAllStandardError());
        QVERIFY2(log.contains(QStringLiteral("reconnected to")), qPrintable(log));
        QVERIFY2(
            log.contains(testsupport::isMysql() ? QStringLiteral("Lock wait timeout") : QStringLiteral("lock timeout")),
            qPrintable(log));
        const QStringList accepted = acceptedIds();
        QCOMPARE(accepted.size(), n); // the results were kept, not the events sent again
        QCOMPARE(QSet<QString>(accepted.begin(), accepted.end()), QSet<QString>(ids.begin(), ids.end()));
    }

    void perKeyOrderWithFaults()
    {
        const int keys = 50;
        const int perKey = 200;
        const QStringList ids = enqueueMany(keys * perKey, keys);
        ReceiverFaults faults;
        faults.failRate = 0.2;
        faults.status = 500;
        m_receiver->setFaults(faults);
        for (int i = 0; i < 4; ++i)
            startRelayer({"--retry-backoff", "5", "--max-retry-backoff", "20", "--max-retries", "1000"});
        QVERIFY2(waitForSent(keys * perKey, 300000), qPrintable(QStringLiteral("sent %1").arg(sentCount())));
        stopRelayers();
        QHash<QString, int> position; // enqueue position of each id
        for (int i = 0; i < ids.size(); ++i)
            position.insert(ids.at(i), i);
        QHash<int, int> lastPerKey;
        int checked = 0;
        int failures = 0;
        for (const ReceivedRequest &r : m_receiver->requests()) {
            if (r.replyStatus != 200) {
                ++failures;
                continue;
            }
            for (const ReceivedEvent &e : r.decoded.events) {
                const int pos = position.value(e.event.id, -1);
                QVERIFY(pos >= 0);
                const int key = pos % keys;
                QVERIFY2(pos > lastPerKey.value(key, -1),
                    qPrintable(QStringLiteral("key %1: event %2 arrived after %3")
                                   .arg(key)
                                   .arg(pos)
                                   .arg(lastPerKey.value(key))));
                lastPerKey.insert(key, pos);
                ++checked;
            }
        }
        qInfo("%d keys x %d events in order, %d failed requests retried", keys, perKey, failures);
        QCOMPARE(checked, keys * perKey);
        QVERIFY(failures > 0);
    }

    void databaseRestartLosesNothing()
    {
        if (!testsupport::isServer())
            QSKIP("a database server restart");
        const int n = 5000;
        const QStringList ids = enqueueMany(n);
        ReceiverFaults slow;
        slow.delayMs = 2; // keep the relayers busy across the restart
        m_receiver->setFaults(slow);
        // Polling so slow that only NOTIFY can explain a quick delivery after the restart; MySQL/MariaDB has no
        // notification, so there relayers poll every 0.5 s.
        const QStringList slowPolling = testsupport::isMysql()
            ? QStringList{"--concurrency", "2", "--poll-interval", "500", "--max-backoff", "1000"}
            : QStringList{"--concurrency", "2", "--poll-interval", "60000", "--max-backoff", "60000"};
        QProcess *a = startRelayer(slowPolling);
        QProcess *b = startRelayer(slowPolling);
        QTRY_VERIFY_WITH_TIMEOUT(m_receiver->eventCount() > 500, 20000);
        QProcess restart;
        if (testsupport::isMysql())
            restart.start(QStringLiteral("bash"),
                {QStringLiteral(MARIADB_SERVER_SCRIPT), "restart", qEnvironmentVariable("OUTBOX_TEST_MARIADB_STATE")});
        else
            restart.start(QStringLiteral("bash"),
                {QStringLiteral(PG_SERVER_SCRIPT), "restart", qEnvironmentVariable("OUTBOX_TEST_PG_STATE")});
        QVERIFY(restart.waitForFinished(60000));
        QCOMPARE(restart.exitCode(), 0);
        QVERIFY(sentCount() < n); // the restart came in the middle of the work
        if (!waitForSent(n, 120000)) {
            QString why;
            {
                testsupport::AppConnection app(m_spec);
                QSqlQuery q(app.db());
                q.exec(
                    QStringLiteral("SELECT status, attempts, COALESCE(lease_owner, '-'), COUNT(*), MIN(seq), MAX(seq), "
                                   "MIN(next_attempt_at), MAX(lease_expires_at) FROM %1 "
                                   "WHERE status <> 'sent' GROUP BY status, attempts, lease_owner")
                        .arg(testsupport::eventsWithLeases()));
                while (q.next()) {
                    QStringList cells;
                    for (int i = 0; i < 8; ++i)
                        cells << q.value(i).toString();
                    why += cells.join(QLatin1Char(' ')) + QLatin1Char('\n');
                }
            }
            for (QProcess *p : {a, b})
                why += QString::fromUtf8(p->readAllStandardError()).right(3000) + QLatin1Char('\n');
            QFAIL(qPrintable(QStringLiteral("sent %1 of %2\n%3").arg(sentCount()).arg(n).arg(why)));
        }
        QCOMPARE(a->state(), QProcess::Running);
        QCOMPARE(b->state(), QProcess::Running);
        // The relayers LISTEN again on their new connections (MySQL: poll again): a new event arrives at once.
        m_receiver->setFaults({});
        QTest::qWait(300);
        const int before = m_receiver->eventCount();
        const QString late = enqueueMany(1).first();
        QTRY_VERIFY_WITH_TIMEOUT(m_receiver->eventCount() > before, 3000);
        QCOMPARE(m_receiver->events().last().event.id, late);
        stopRelayers();
        const QStringList accepted = acceptedIds();
        QCOMPARE(QSet<QString>(accepted.begin(), accepted.end()),
            QSet<QString>(ids.begin(), ids.end()) + QSet<QString>{late});
        for (QProcess *p : {a, b}) {
            const QString log = QString::fromUtf8(p->readAllStandardError());
            QCOMPARE(log.count(QStringLiteral("lost the connection")), 1);
            QCOMPARE(log.count(QStringLiteral("reconnected to")), 1);
            QVERIFY2(!log.contains(QStringLiteral("is gone")), qPrintable(log)); // nobody taken over through a restart
            QVERIFY(!log.contains(QStringLiteral("outbox-test-secret")));
        }
    }

    // Issue 26: PostgreSQL failover. A URL naming two servers (libpq's multi-host form, read-write sessions
    // only) reaches whichever is the primary: a real streaming standby made by pg_basebackup, the primary
    // killed mid-relay and the standby promoted. The relayers carry on on the new primary within seconds,
    // nothing is lost, an enqueue works there, and duplicates come only from requests in flight. Replication is
    // synchronous here: with asynchronous replication, commits the standby had not received are lost with the
    // primary (PostgreSQL's promise, not ours), and their events would be sent again.
    void postgresqlFailoverToAPromotedStandby()
    {
        if (!testsupport::isPostgres())
            QSKIP("PostgreSQL streaming replication");
        const QString primaryState = m_dir.filePath(QStringLiteral("failover-primary.env"));
        const QString standbyState = m_dir.filePath(QStringLiteral("failover-standby.env"));
        auto script = [](const QStringList &args, bool synchronous = false) {
            QProcess p;
            QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
            if (synchronous)
                env.insert(QStringLiteral("PGTEST_SYNCHRONOUS"), QStringLiteral("1"));
            p.setProcessEnvironment(env);
            p.start(QStringLiteral("bash"), QStringList{QStringLiteral(PG_SERVER_SCRIPT)} + args);
            p.waitForFinished(120000);
            if (p.exitCode() != 0)
                qWarning("pg-server.sh %s: %s", qPrintable(args.first()), p.readAllStandardError().constData());
            return p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
        };
        auto portOf = [](const QString &state) {
            QFile f(state);
            if (f.open(QIODevice::ReadOnly))
                for (const QByteArray &line : f.readAll().split('\n'))
                    if (line.startsWith("PGTEST_PORT="))
                        return line.mid(12).toInt();
            return 0;
        };
        struct Servers
        {
            std::function<bool(const QStringList &, bool)> script;
            QStringList states;
            ~Servers()
            {
                for (const QString &s : states)
                    script({QStringLiteral("stop"), s}, false);
            }
        } servers{script, {primaryState, standbyState}};
        QVERIFY(script({QStringLiteral("start"), primaryState}, true));
        QVERIFY(script({QStringLiteral("standby"), primaryState, standbyState}, false));
        const auto spec = ConnectionSpec::fromUrl(QStringLiteral("postgresql://outbox:outbox-test-secret@"
                                                                 "127.0.0.1:%1,127.0.0.1:%2/postgres"
                                                                 "?target_session_attrs=read-write&connect_timeout=2")
                                                      .arg(portOf(primaryState))
                                                      .arg(portOf(standbyState)));
        QVERIFY(spec.isOk());
        m_spec = *spec;
        m_storage = testsupport::openStorage(m_spec); // creates the outbox on the primary
        const int n = 3000;
        const QStringList ids = enqueueMany(n);
        ReceiverFaults slow;
        slow.delayMs = 2; // keep the relayers busy across the failover
        m_receiver->setFaults(slow);
        QProcess *a = startRelayer({"--concurrency", "2"});
        QProcess *b = startRelayer({"--concurrency", "2"});
        QTRY_VERIFY_WITH_TIMEOUT(m_receiver->eventCount() > 300, 20000);
        QVERIFY(script({QStringLiteral("kill"), primaryState}, false));
        const int atKill = m_receiver->eventCount();
        QTest::qWait(500); // the relayers find the primary gone
        QVERIFY(script({QStringLiteral("promote"), standbyState}, false));
        QElapsedTimer sincePromotion;
        sincePromotion.start();
        const int afterPromotion = m_receiver->eventCount();
        QTRY_VERIFY_WITH_TIMEOUT(m_receiver->eventCount() > afterPromotion + 50, 10000);
        qInfo("relaying again on the promoted standby %lld ms after its promotion", sincePromotion.elapsed());
        QVERIFY(atKill < n);
        if (!waitForSent(n, 120000)) {
            QString why;
            for (QProcess *p : {a, b})
                why += QString::fromUtf8(p->readAllStandardError()).right(3000) + QLatin1Char('\n');
            QFAIL(qPrintable(QStringLiteral("sent %1 of %2\n%3").arg(sentCount()).arg(n).arg(why)));
        }
        // The application's enqueue reaches the new primary through the same URL, and is relayed.
        m_receiver->setFaults({});
        const QString late = enqueueMany(1).first();
        QTRY_VERIFY_WITH_TIMEOUT(m_receiver->events().last().event.id == late, 10000);
        QCOMPARE(a->state(), QProcess::Running);
        QCOMPARE(b->state(), QProcess::Running);
        stopRelayers();
        const QStringList accepted = acceptedIds();
        const QSet<QString> unique(accepted.begin(), accepted.end());
        QCOMPARE(unique, QSet<QString>(ids.begin(), ids.end()) + QSet<QString>{late});
        const qsizetype duplicates = accepted.size() - unique.size();
        qInfo("primary killed, standby promoted: %d events all delivered, %lld duplicates (4 requests could be in "
              "flight)",
            n + 1, qint64(duplicates));
        QVERIFY2(duplicates <= 2 * 2, qPrintable(QString::number(duplicates)));
        for (QProcess *p : {a, b}) {
            const QString log = QString::fromUtf8(p->readAllStandardError());
            QVERIFY2(log.contains(QStringLiteral("reconnected to")), qPrintable(log.right(2000)));
            QVERIFY(!log.contains(QStringLiteral("outbox-test-secret")));
        }
        m_storage.reset();
    }
};

QTEST_GUILESS_MAIN(TestCluster)
#include "tst_cluster.moc"
