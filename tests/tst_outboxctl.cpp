// SPDX-License-Identifier: MIT
// outboxctl end to end, through its process interface: arguments in, stdout/stderr and exit code out,
// the outbox file checked afterwards.

#include "receiver.h"
#include "relayer.h"
#include "testsupport.h"

#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QScopeGuard>
#include <QRegularExpression>
#include <QSqlRecord>
#include <QTcpServer>
#include <QTcpSocket>

#include <csignal>
#include <sys/resource.h>

using namespace outbox;

struct Run
{
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
    QList<QByteArray> errLines() const
    {
        QList<QByteArray> lines = err.trimmed().split('\n');
        lines.removeAll(QByteArray());
        return lines;
    }
};

class TestOutboxctl : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    ConnectionSpec m_spec;
    QString m_db; // the --db URL

    QProcessEnvironment environment() const
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.remove(QStringLiteral("OUTBOX_DB"));
        env.insert(QStringLiteral("XDG_DATA_HOME"), m_dir.filePath(QStringLiteral("xdg")));
        return env;
    }

    Run run(const QStringList &args, const QByteArray &input = {}, bool withDb = true,
        const QHash<QString, QString> &extraEnv = {})
    {
        QProcess p;
        QProcessEnvironment env = environment();
        for (auto it = extraEnv.constBegin(); it != extraEnv.constEnd(); ++it)
            env.insert(it.key(), it.value());
        p.setProcessEnvironment(env);
        p.start(QStringLiteral(OUTBOXCTL_PATH), withDb ? QStringList{"--db", m_db} + args : args);
        if (!p.waitForStarted(5000))
            qFatal("cannot start outboxctl");
        if (!input.isEmpty())
            p.write(input);
        p.closeWriteChannel();
        if (!testsupport::finishOrShowStacks(p, 60000))
            qFatal("outboxctl did not finish");
        return Run{p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, p.readAllStandardOutput(),
            p.readAllStandardError()};
    }

    // The whole outbox as text, to show that a failed command changed nothing.
    QByteArray fingerprint()
    {
        testsupport::AppConnection app(m_spec);
        QSqlQuery q(app.db());
        q.exec("SELECT * FROM outbox_events ORDER BY seq");
        QCryptographicHash h(QCryptographicHash::Sha256);
        while (q.next()) {
            for (int i = 0; i < q.record().count(); ++i)
                h.addData(q.value(i).toString().toUtf8() + '\x1f');
        }
        q.exec("SELECT COUNT(*) FROM outbox_attempts");
        q.next();
        h.addData(q.value(0).toString().toUtf8());
        return h.result().toHex();
    }

    QString enqueueOne(const QStringList &extra = {})
    {
        const Run r =
            run(QStringList{"enqueue", "--type", "com.example.t", "--source", "/ctl", "--data", "{\"n\":1}"} + extra);
        if (r.exitCode != 0)
            qFatal("enqueue failed: %s", r.err.constData());
        return QString::fromUtf8(r.out.trimmed());
    }

    QList<QJsonObject> listJson(const QStringList &extra = {})
    {
        const Run r = run(QStringList{"list", "--json"} + extra);
        QList<QJsonObject> rows;
        for (const QByteArray &line : r.out.split('\n')) {
            if (!line.isEmpty())
                rows << QJsonDocument::fromJson(line).object();
        }
        return rows;
    }

    // Starts `outboxctl receive --port 0` with these arguments; the URL it listens at (empty: it did not start).
    QString startReceive(QProcess &receiver, const QStringList &args)
    {
        receiver.setProcessEnvironment(environment());
        receiver.start(QStringLiteral(OUTBOXCTL_PATH), QStringList{"receive", "--port", "0"} + args);
        if (!receiver.waitForStarted(5000))
            return {};
        receiver.setReadChannel(QProcess::StandardError);
        QElapsedTimer clock;
        clock.start();
        while (!receiver.canReadLine() && clock.elapsed() < 5000)
            receiver.waitForReadyRead(100);
        const QRegularExpressionMatch m =
            QRegularExpression("at (http://\\S+)").match(QString::fromUtf8(receiver.readLine()));
        return m.hasMatch() ? m.captured(1) : QString();
    }

    // Waits for a receiver started by startReceive() to exit; empty when it exited 0, else why not, with
    // what it wrote to stderr (a sanitizer's report included), so a failed check says what happened.
    static QByteArray receiverEnded(QProcess &receiver)
    {
        if (!receiver.waitForFinished(10000))
            return "the receiver did not exit within 10 s";
        if (receiver.exitStatus() == QProcess::NormalExit && receiver.exitCode() == 0)
            return {};
        return (receiver.exitStatus() == QProcess::CrashExit ? "the receiver crashed (signal "
                                                             : "the receiver exited with code ")
            + QByteArray::number(receiver.exitCode()) + (receiver.exitStatus() == QProcess::CrashExit ? ")" : "")
            + "; its stderr:\n" + receiver.readAllStandardError();
    }

private Q_SLOTS:
    void init()
    {
        m_spec = testsupport::freshOutbox(m_dir);
        m_db = m_spec.toUrl();
        const Run r = run({"init"});
        QCOMPARE(r.exitCode, 0);
        QVERIFY(r.out.contains(QStringLiteral("schema version %1").arg(Storage::schemaVersion()).toUtf8()));
    }

    void enqueueListShow()
    {
        const Run r = run({"enqueue", "--type", "com.example.order.created", "--source", "/shop", "--id", "order-1",
            "--subject", "orders/1", "--key", "cust-7", "--ext", "traceparent=00-abc-def-01", "--data",
            R"({"order":1,"big":1234567890123456789})"});
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(r.out, QByteArray("order-1\n"));
        QVERIFY(r.err.isEmpty());
        const auto rows = listJson();
        QCOMPARE(rows.size(), 1);
        QCOMPARE(rows.first().value("id").toString(), QStringLiteral("order-1"));
        QCOMPARE(rows.first().value("status").toString(), QStringLiteral("pending"));
        QCOMPARE(rows.first().value("subject").toString(), QStringLiteral("orders/1"));
        QCOMPARE(rows.first().value("key").toString(), QStringLiteral("cust-7"));
        QCOMPARE(rows.first().value("extensions").toObject().value("traceparent").toString(),
            QStringLiteral("00-abc-def-01"));
        const Run show = run({"show", "order-1", "--json"});
        QCOMPARE(show.exitCode, 0);
        QVERIFY2(
            show.out.contains(R"("data":{"order":1,"big":1234567890123456789})"), show.out.constData()); // as stored
        const Run table = run({"list"});
        QVERIFY(table.out.contains("order-1"));
        QVERIFY(table.out.contains("com.example.order.created"));
        // Found by its id, also with spaces around a pasted one; an unknown id lists nothing.
        QCOMPARE(listJson({"--id", " order-1 "}).size(), 1);
        QCOMPARE(listJson({"--id", "order-2"}).size(), 0);
        const Run missing = run({"show", "no-such-event"});
        QCOMPARE(missing.exitCode, 1);
        QCOMPARE(missing.errLines().size(), 1);
        QVERIFY(missing.err.contains("no event with id 'no-such-event'"));
    }

    // list --search: the console's payload search (text, or a condition on the payload), newest first, with
    // the other filters and the limit.
    void listSearchFindsPayloads()
    {
        for (int i = 1; i <= 6; ++i)
            enqueueOne({"--id", QStringLiteral("e%1").arg(i), "--data",
                QStringLiteral(R"({"amount":%1,"note":"%2"})").arg(i * 50).arg(i % 2 ? "late" : "on time")});
        auto ids = [this](const QStringList &args) {
            QStringList found;
            for (const QJsonObject &o : listJson(args))
                found << o.value("id").toString();
            return found.join(QLatin1Char(' '));
        };
        QCOMPARE(ids({"--search", "late"}), QStringLiteral("e5 e3 e1"));
        QCOMPARE(ids({"--search", "data.amount >= 200"}), QStringLiteral("e6 e5 e4"));
        QCOMPARE(ids({"--search", "data.amount >= 200", "--limit", "2"}), QStringLiteral("e6 e5"));
        QCOMPARE(ids({"--search", "data.amount >= 200", "--after", "5"}), QStringLiteral("e6"));
        QCOMPARE(ids({"--search", "data.amount >= 200", "--id", "e4"}), QStringLiteral("e4"));
        QCOMPARE(ids({"--search", "data.amount > 1000"}), QString());
        const Run table = run({"list", "--search", "on time"});
        QCOMPARE(table.exitCode, 0);
        QCOMPARE(table.out.count('\n'), 4); // the heading and three rows
    }

    void enqueueDataFileKeepsBytes()
    {
        const QString file = m_dir.filePath(QStringLiteral("payload.csv"));
        QFile f(file);
        QVERIFY(f.open(QIODevice::WriteOnly));
        const QByteArray bytes("a,b\r\n1,\xff\x00\n", 10);
        f.write(bytes);
        f.close();
        const Run r =
            run({"enqueue", "--type", "t", "--source", "s", "--data-file", file, "--content-type", "text/csv"});
        QCOMPARE(r.exitCode, 0);
        auto storage = testsupport::openStorage(m_spec);
        QCOMPARE(storage->event(QString::fromUtf8(r.out.trimmed()))->data, bytes);
        const Run fromStdin =
            run({"enqueue", "--type", "t", "--source", "s", "--data-file", "-"}, R"({"from":"stdin"})");
        QCOMPARE(fromStdin.exitCode, 0);
        QCOMPARE(storage->event(QString::fromUtf8(fromStdin.out.trimmed()))->data, QByteArray(R"({"from":"stdin"})"));
    }

    void enqueueJsonLinesIsOneTransaction()
    {
        const QByteArray good = R"({"type":"a","source":"/j","data":{"x":1}}
{"type":"b","source":"/j","id":"j-2","subject":"s","key":"k","extensions":{"traceparent":"00-1"},"data":[1,2]}

{"type":"c","source":"/j","datacontenttype":"text/plain","data":"hello"}
)";
        Run r = run({"enqueue", "--jsonl", "-"}, good);
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(r.out, QByteArray("3\n"));
        auto storage = testsupport::openStorage(m_spec);
        QCOMPARE(storage->event("j-2")->data, QByteArray("[1,2]"));
        QCOMPARE(storage->event("j-2")->orderingKey, QStringLiteral("k"));
        const QByteArray before = fingerprint();
        const QByteArray bad =
            "{\"type\":\"a\",\"source\":\"/j\"}\n{\"type\":\"a\",\"source\":\"/j\",\"data\":{broken\n";
        r = run({"enqueue", "--jsonl", "-"}, bad);
        QCOMPARE(r.exitCode, 2);
        QCOMPARE(r.errLines().size(), 1);
        QVERIFY2(r.err.contains("line 2: invalid JSON"), r.err.constData());
        QVERIFY(r.err.contains("nothing was enqueued"));
        QCOMPARE(fingerprint(), before);
    }

    // The data of a JSON line is stored as written: integers beyond 64 bits, key order, 1.10, spacing.
    // Attributes of the wrong type and duplicate keys are refused, not dropped or collapsed.
    void enqueueJsonLinesKeepsDataBytes()
    {
        const QByteArray data =
            "{ \"z\": 12345678901234567890123, \"a\": 1.10, \"nested\": {\"b\": [1, 2.50e3], \"s\": \"x\\\"}{\"} }";
        Run r = run(
            {"enqueue", "--jsonl", "-"}, "{\"type\":\"a\",\"source\":\"/j\",\"id\":\"exact\",\"data\":" + data + "}\n");
        QCOMPARE(r.exitCode, 0);
        auto storage = testsupport::openStorage(m_spec);
        QCOMPARE(storage->event("exact")->data, data);
        const QByteArray before = fingerprint();
        for (const QByteArray &line :
            {QByteArray(R"({"type":"a","source":"/j","id":123})"), QByteArray(R"({"type":"a","source":"/j","key":5})"),
                QByteArray(R"({"type":"a","source":"/j","data":1,"data":2})"),
                QByteArray(R"({"type":"a","source":"/j","extensions":[1]})")}) {
            r = run({"enqueue", "--jsonl", "-"}, line + "\n");
            QCOMPARE(r.exitCode, 2);
            QCOMPARE(r.errLines().size(), 1);
            QVERIFY2(r.err.contains("must be") || r.err.contains("appears twice"), r.err.constData());
        }
        QCOMPARE(fingerprint(), before);
    }

    // Issue 27, section 5: --drain ends while events back off (exit 1, "to retry"); --until-settled waits for
    // them to come due and tries again until each is sent or failed. Both summaries count events, not attempts.
    void relayUntilSettledWaitsForRetries()
    {
        for (int i = 0; i < 12; ++i)
            enqueueOne();
        Receiver receiver;
        QVERIFY(!receiver.listen().isError());
        ReceiverFaults flaky;
        flaky.failRate = 0.5;
        flaky.status = 500;
        receiver.setFaults(flaky);
        const QStringList common = {"relay", "--target", receiver.url().toString(), "--retry-backoff", "100",
            "--max-retry-backoff", "300", "--max-retries", "30"};
        const Run drained = run(common + QStringList{"--drain"});
        QCOMPARE(drained.exitCode, 1);
        QVERIFY2(drained.out.startsWith("processed 12: "), drained.out.constData()); // 12 events, not attempts
        QVERIFY2(!drained.out.contains(" 0 to retry"), drained.out.constData());
        const Run settled = run(common + QStringList{"--until-settled"});
        QCOMPARE(settled.exitCode, 0);
        QVERIFY2(QRegularExpression(QStringLiteral("^processed [0-9]+: ([0-9]+) sent, 0 to retry, 0 failed$"))
                     .match(QString::fromUtf8(settled.out.trimmed()))
                     .hasMatch(),
            settled.out.constData());
        const Run stats = run({"stats", "--json"});
        const QJsonObject s = QJsonDocument::fromJson(stats.out).object();
        QCOMPARE(s.value(QStringLiteral("sent")).toInt(), 12);
        QCOMPARE(s.value(QStringLiteral("pending")).toInt(), 0);
        const Run both = run({"relay", "--target", receiver.url().toString(), "--once", "--until-settled"});
        QCOMPARE(both.exitCode, 2);
    }

    void relayDrainDeliversEverything()
    {
        for (int i = 0; i < 12; ++i)
            enqueueOne();
        Receiver receiver;
        QVERIFY(!receiver.listen().isError());
        const Run r = run(
            {"relay", "--target", receiver.url().toString(), "--drain", "--batch-size", "5", "--mode", "structured"});
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(r.out.trimmed(), QByteArray("processed 12: 12 sent, 0 to retry, 0 failed"));
        QCOMPARE(receiver.eventCount(), 12);
        QCOMPARE(receiver.requests().first().decoded.mode, ContentMode::Structured);
        const Run stats = run({"stats", "--json"});
        const QJsonObject s = QJsonDocument::fromJson(stats.out).object();
        QCOMPARE(s.value("sent").toInt(), 12);
        QCOMPARE(s.value("pending").toInt(), 0);
        QVERIFY(s.value("oldest_pending_age_ms").isNull());
    }

    // Headers from flags and from a secret file, a signing secret: they reach the receiver and are never
    // printed; a secret file other users may read is refused; a password in the target URL is not echoed.
    void relayHeadersAndSecretsAreNeverPrinted()
    {
        enqueueOne();
        enqueueOne();
        Receiver receiver;
        QVERIFY(!receiver.listen().isError());
        const QByteArray secret = "whsec_" + QByteArray("a key for the relay test, 32 by").toBase64();
        QVERIFY(receiver.setSigningSecret(secret));
        const QString headers = m_dir.filePath(QStringLiteral("headers"));
        const QString signing = m_dir.filePath(QStringLiteral("signing"));
        for (const auto &[path, content] :
            {std::pair(headers, QByteArray("# secrets\nAuthorization: Bearer file-t0ken\n\nX-Tenant: t-7\n")),
                std::pair(signing, secret + '\n')}) {
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(content);
            f.close();
            QVERIFY(f.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ReadOther));
        }
        QUrl target = receiver.url();
        target.setUserName(QStringLiteral("relay"));
        target.setPassword(QStringLiteral("url-pa55"));
        const QStringList args{"relay", "--target", target.toString(), "--drain", "--verbose", "--header",
            "X-Api-Key: flag-k3y", "--header-file", headers, "--signing-secret-file", signing};
        Run r = run(args);
        QCOMPARE(r.exitCode, 2);
        QCOMPARE(r.errLines().size(), 1);
        QVERIFY2(r.err.contains("other users can read it") && r.err.contains("chmod 600"), r.err.constData());
        QFile::setPermissions(headers, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
        QFile::setPermissions(signing, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
        r = run(args);
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(receiver.eventCount(), 2);
        const ReceivedRequest got = receiver.requests().first();
        QCOMPARE(got.message.header("x-api-key"), QByteArray("flag-k3y"));
        QCOMPARE(got.message.header("authorization"), QByteArray("Bearer file-t0ken"));
        QCOMPARE(got.message.header("x-tenant"), QByteArray("t-7"));
        QCOMPARE(got.signature, QStringLiteral("valid"));
        for (const QByteArray &secretText :
            {QByteArray("flag-k3y"), QByteArray("file-t0ken"), QByteArray("url-pa55"), secret})
            QVERIFY2(!r.out.contains(secretText) && !r.err.contains(secretText), r.err.constData());

        r = run({"relay", "--target", target.toString(), "--drain", "--header", "no colon here"});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("expected a header as"), r.err.constData());
        r = run({"relay", "--target", target.toString(), "--drain", "--client-cert", headers});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("needs its key"), r.err.constData());
    }

    // Issue 26: headers the relayer owns (framing, hop-by-hop, content type, ce-*, webhook-*) are refused
    // wherever a header can be given, naming the header and never its value; and one rule for every file that
    // carries a secret: readable by its owner alone (0600), config and routes files included when they hold a
    // header or a database password.
    void ownedHeadersAndOpenSecretFilesAreRefused()
    {
        const QString id = enqueueOne();
        const QByteArray before = fingerprint();
        const QString target = QStringLiteral("http://127.0.0.1:9/");
        auto write = [this](const QString &name, const QByteArray &content, QFileDevice::Permissions permissions) {
            const QString path = m_dir.filePath(name);
            QFile f(path);
            if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
                qFatal("cannot write %s", qPrintable(path));
            f.write(content);
            f.close();
            f.setPermissions(permissions);
            return path;
        };
        const auto owner = QFileDevice::ReadOwner | QFileDevice::WriteOwner;
        for (const QString &header : {QStringLiteral("Content-Length: 0"), QStringLiteral("Transfer-Encoding: chunked"),
                 QStringLiteral("Host: evil.example"), QStringLiteral("ce-id: forged-v4lue"),
                 QStringLiteral("Connection: close"), QStringLiteral("Proxy-Authorization: Basic x"),
                 QStringLiteral("webhook-signature: v1,x"), QStringLiteral("Content-Type: text/plain")}) {
            const Run r = run({"relay", "--target", target, "--once", "--header", header});
            QCOMPARE(r.exitCode, 2);
            QCOMPARE(r.errLines().size(), 1);
            QVERIFY2(r.err.contains(header.section(QLatin1Char(':'), 0, 0).toUtf8()), r.err.constData());
            QVERIFY2(r.err.contains("relayer's own"), r.err.constData());
            QVERIFY(!r.err.contains("forged-v4lue") && !r.err.contains("evil.example"));
        }
        const QString headerFile = write(QStringLiteral("owned.headers"), "ce-id: forged-v4lue\n", owner);
        Run r = run({"relay", "--target", target, "--once", "--header-file", headerFile});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("'ce-id'") && !r.err.contains("forged"), r.err.constData());
        const QString routes = write(QStringLiteral("owned.routes"),
            "[route all]\ntypes = *\ntarget = http://127.0.0.1:9/\nheader = Host: evil.example\n", owner);
        r = run({"relay", "--routes", routes, "--once"});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("'Host'") && !r.err.contains("evil"), r.err.constData());

        // Secret files readable by others or by the group: refused with the chmod 600 hint, the secret unsaid.
        const QString groupHeaders = write(
            QStringLiteral("group.headers"), "Authorization: Bearer gr0up-t0ken\n", owner | QFileDevice::ReadGroup);
        r = run({"relay", "--target", target, "--once", "--header-file", groupHeaders});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("chmod 600") && !r.err.contains("gr0up-t0ken"), r.err.constData());
        const QString openConfig = write(QStringLiteral("relay.conf"),
            "target = http://127.0.0.1:9/\nheader = Authorization: Bearer c0nfig-t0ken\n",
            owner | QFileDevice::ReadGroup | QFileDevice::ReadOther);
        r = run({"relay", "--config", openConfig, "--once"});
        QCOMPARE(r.exitCode, 2);
        QCOMPARE(r.errLines().size(), 1);
        QVERIFY2(r.err.contains("config file") && r.err.contains("chmod 600"), r.err.constData());
        QVERIFY(!r.err.contains("c0nfig-t0ken"));
        const QString passwordConfig = write(QStringLiteral("db.conf"),
            "db = postgresql://outbox:db-pa55@127.0.0.1:9/outbox\ntarget = http://127.0.0.1:9/\n",
            owner | QFileDevice::ReadOther);
        r = run({"relay", "--config", passwordConfig, "--once"}, {}, false);
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("chmod 600") && !r.err.contains("db-pa55"), r.err.constData());
        QCOMPARE(fingerprint(), before); // nothing was sent or changed
        // The same config, readable by its owner alone, is used: the relayer runs (the target is down: exit 1).
        QFile::setPermissions(openConfig, owner);
        r = run({"relay", "--config", openConfig, "--once", "--timeout", "2000"});
        QCOMPARE(r.exitCode, 1);
        // A config file without secrets may stay world-readable.
        const QString plain = write(QStringLiteral("plain.conf"), "target = http://127.0.0.1:9/\ntimeout = 2000\n",
            owner | QFileDevice::ReadOther);
        r = run({"relay", "--config", plain, "--once"});
        QVERIFY2(r.exitCode != 2 && !r.err.contains("chmod"), r.err.constData()); // accepted (nothing due now)
        QVERIFY2(listJson().first().value("last_error").toString().contains(QStringLiteral("refused")),
            "the owner-only config was used: the relayer tried the target");
        // ${NAME} in a config value is the environment's (systemd's credentials directory).
        const QString credentials = write(QStringLiteral("cred.conf"),
            "target = http://127.0.0.1:9/\nheader-file = ${OUTBOX_TEST_CREDENTIALS}/owned.headers\n",
            owner | QFileDevice::ReadOther);
        r = run({"relay", "--config", credentials, "--once"}, {}, true,
            {{QStringLiteral("OUTBOX_TEST_CREDENTIALS"), m_dir.path()}});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("'ce-id'"), r.err.constData()); // the file named through the variable was read
    }

    // retry --to: failed events sent once to another URL. Each arrival becomes sent; a refusal stays failed
    // with the new error and exits 1; a malformed URL changes nothing.
    void retryToSendsFailedEventsOnceElsewhere()
    {
        const QString a = enqueueOne();
        const QString b = enqueueOne();
        const QString c = enqueueOne();
        Receiver broken;
        QVERIFY(!broken.listen().isError());
        ReceiverFaults gone;
        gone.status = 404;
        broken.setFaults(gone);
        run({"relay", "--target", broken.url().toString(), "--drain"});
        QCOMPARE(listJson({"--status", "failed"}).size(), 3);

        Receiver fixed;
        QVERIFY(!fixed.listen().isError());
        Run r = run({"retry", "--to", fixed.url().toString(), a, b, "no-such-id"});
        QCOMPARE(r.exitCode, 0);
        QVERIFY2(r.out.contains("sent 2 of 3 to "), r.out.constData());
        QVERIFY2(r.out.contains("failed again 0, skipped 1"), r.out.constData());
        QCOMPARE(fixed.eventCount(), 2);
        QCOMPARE(listJson({"--status", "sent"}).size(), 2);
        QCOMPARE(listJson({"--status", "failed"}).size(), 1);

        Receiver refusing;
        QVERIFY(!refusing.listen().isError());
        ReceiverFaults unprocessable;
        unprocessable.status = 422;
        refusing.setFaults(unprocessable);
        r = run({"retry", "--to", refusing.url().toString(), "--all-failed"});
        QCOMPARE(r.exitCode, 1);
        QCOMPARE(r.errLines().size(), 1);
        QVERIFY2(r.err.contains("1 failed again: HTTP 422"), r.err.constData());
        const auto failed = listJson({"--status", "failed"});
        QCOMPARE(failed.size(), 1);
        QCOMPARE(failed.first().value("id").toString(), c);
        QCOMPARE(failed.first().value("last_http_status").toInt(), 422);

        const QByteArray before = fingerprint();
        r = run({"retry", "--to", "ftp://example.com/x", c});
        QCOMPARE(r.exitCode, 2);
        QCOMPARE(r.errLines().size(), 1);
        r = run({"retry", "--mode", "structured", c});
        QCOMPARE(r.exitCode, 2);
        QCOMPARE(fingerprint(), before);
    }

    // fix: edit & retry from the command line. The corrected copy is enqueued with a new id naming the
    // original, which stays failed and resolved (its history names the fix) or is deleted; the fix is what a
    // relayer then delivers. A pending event, an unknown id or bad JSON changes nothing.
    void fixEnqueuesACorrectedCopy()
    {
        const QString a = enqueueOne({"--ext", "tenant=shop"});
        const QString b = enqueueOne({"--key", "cust-2"});
        Receiver refusing;
        QVERIFY(!refusing.listen().isError());
        ReceiverFaults bad;
        bad.status = 400;
        refusing.setFaults(bad);
        run({"relay", "--target", refusing.url().toString(), "--drain"});
        QCOMPARE(listJson({"--status", "failed"}).size(), 2);

        Run r = run({"fix", a, "--data", R"({"n":2})", "--type", "com.example.fixed"});
        QCOMPARE(r.exitCode, 0);
        QVERIFY(r.err.isEmpty());
        const QString fixId = QString::fromUtf8(r.out.trimmed());
        QVERIFY(!fixId.isEmpty() && fixId != a);
        const QJsonObject fix = listJson({"--id", fixId}).value(0);
        QCOMPARE(fix.value("status").toString(), QStringLiteral("pending"));
        QCOMPARE(fix.value("type").toString(), QStringLiteral("com.example.fixed"));
        QCOMPARE(fix.value("replay_of").toString(), a);
        QCOMPARE(fix.value("extensions").toObject().value("tenant").toString(), QStringLiteral("shop"));
        const Run shown = run({"show", a});
        QVERIFY2(
            shown.out.contains(QStringLiteral("replaced by %1 (edited)").arg(fixId).toUtf8()), shown.out.constData());
        QCOMPARE(listJson({"--id", a}).value(0).value("status").toString(), QStringLiteral("failed"));

        // The fix is what arrives.
        Receiver fine;
        QVERIFY(!fine.listen().isError());
        QCOMPARE(run({"relay", "--target", fine.url().toString(), "--drain"}).exitCode, 0);
        QCOMPARE(fine.eventCount(), 1);
        QCOMPARE(fine.requests().first().decoded.events.first().event.type, QStringLiteral("com.example.fixed"));
        QCOMPARE(fine.requests().first().decoded.events.first().event.data, QByteArray(R"({"n":2})"));

        // b has an ordering key: kept failed, it would hold a fix of its key behind it. Refused, nothing written.
        const QByteArray beforeKept = fingerprint();
        r = run({"fix", b, "--data", R"({"n":3})"});
        QCOMPARE(r.exitCode, 2);
        QCOMPARE(r.errLines().size(), 1);
        QVERIFY2(r.err.contains("cust-2") && r.err.contains("delete the original"), r.err.constData());
        QCOMPARE(fingerprint(), beforeKept);
        r = run({"fix", b, "--delete-original", "--data", R"({"n":3})"});
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(listJson({"--id", b}).size(), 0);
        const QJsonObject second = listJson({"--id", QString::fromUtf8(r.out.trimmed())}).value(0);
        QCOMPARE(second.value("key").toString(), QStringLiteral("cust-2")); // the original's attributes are kept
        QCOMPARE(second.value("status").toString(), QStringLiteral("pending"));

        const QByteArray before = fingerprint();
        const QString pending = enqueueOne();
        const QByteArray withPending = fingerprint();
        QVERIFY(before != withPending);
        for (const QStringList &args : {QStringList{"fix", pending}, QStringList{"fix", "no-such-id"},
                 QStringList{"fix", a, "--data", "{bad"}, QStringList{"fix", a, b}}) {
            r = run(args);
            QVERIFY2(r.exitCode != 0, qPrintable(args.join(' ')));
            QCOMPARE(r.errLines().size(), 1);
            QCOMPARE(fingerprint(), withPending);
        }
        QVERIFY(run({"fix", pending}).err.contains("is pending, not failed"));
    }

    void relayOnceToAFailingTargetExitsNonZero()
    {
        const QString id = enqueueOne();
        Receiver receiver;
        QVERIFY(!receiver.listen().isError());
        ReceiverFaults f;
        f.status = 500;
        receiver.setFaults(f);
        const Run r = run({"relay", "--target", receiver.url().toString(), "--once"});
        QCOMPARE(r.exitCode, 1);
        QCOMPARE(r.errLines().size(), 1);
        QVERIFY2(r.err.contains("1 of 1 events were not delivered: HTTP 500"), r.err.constData());
        const auto rows = listJson({"--status", "pending"});
        QCOMPARE(rows.size(), 1);
        QCOMPARE(rows.first().value("attempts").toInt(), 1);
        QCOMPARE(rows.first().value("last_http_status").toInt(), 500);
    }

    void relayLogLevelChoosesTheLines()
    {
        // Two events: one gets a 500 (a retry), one a 404 (failed); then a third is sent.
        enqueueOne();
        enqueueOne();
        Receiver receiver;
        QVERIFY(!receiver.listen().isError());
        ReceiverFaults f;
        f.status = 500;
        receiver.setFaults(f);
        Run r = run(
            {"relay", "--target", receiver.url().toString(), "--once", "--batch-size", "1", "--log-level", "warning"});
        QCOMPARE(r.exitCode, 1);
        QCOMPARE(r.errLines().size(), 2); // the retry, and the summary
        QVERIFY2(r.errLines().first().startsWith("outboxctl: retry "), r.err.constData());
        f.status = 404;
        receiver.setFaults(f);
        r = run({"relay", "--target", receiver.url().toString(), "--once", "--batch-size", "1", "--log-level", "error",
            "--retry-backoff", "0"});
        QCOMPARE(r.errLines().size(), 2); // the failure, and the summary
        QVERIFY2(r.errLines().first().startsWith("outboxctl: failed "), r.err.constData());
        QVERIFY(r.errLines().first().contains("HTTP 404"));
        receiver.setFaults({});
        enqueueOne();
        r = run({"relay", "--target", receiver.url().toString(), "--drain", "--log-level", "error"});
        QCOMPARE(r.err, QByteArray()); // deliveries are info
        r = run({"retry", "--all-failed"});
        r = run({"relay", "--target", receiver.url().toString(), "--drain", "--log-level", "info"});
        QVERIFY2(r.errLines().size() >= 1 && r.errLines().first().startsWith("outboxctl: sent "), r.err.constData());
        r = run({"relay", "--target", receiver.url().toString(), "--drain", "--log-level", "loud"});
        QCOMPARE(r.exitCode, 2);
        QCOMPARE(r.errLines().size(), 1);
        QVERIFY(r.err.contains("unknown log level 'loud'"));
        r = run(
            {"relay", "--target", "https://127.0.0.1:1/", "--drain", "--ca-file", m_dir.filePath("no-such-ca.pem")});
        QCOMPARE(r.exitCode, 2);
        QCOMPARE(r.errLines().size(), 1);
        QVERIFY2(r.err.contains("no PEM certificate could be read from the CA file"), r.err.constData());
    }

    // An enqueuing process killed in the middle of its transaction leaves no part of it, and earlier
    // commits stay.
    void enqueuerKilledMidTransactionLeavesNothingHalfWritten()
    {
        for (int i = 0; i < 10; ++i)
            enqueueOne();
        QByteArray lines;
        for (int i = 0; i < 200000; ++i)
            lines +=
                "{\"type\":\"com.example.bulk\",\"source\":\"/bulk\",\"data\":{\"i\":" + QByteArray::number(i) + "}}\n";
        QProcess p;
        p.setProcessEnvironment(environment());
        p.start(QStringLiteral(OUTBOXCTL_PATH), {"--db", m_db, "enqueue", "--jsonl", "-"});
        QVERIFY(p.waitForStarted());
        p.write(lines);
        p.closeWriteChannel();
        QTest::qWait(400); // well inside the transaction of 200,000 inserts
        p.kill();
        p.waitForFinished();
        const auto all = listJson({"--limit", "1000000"});
        int bulk = 0;
        for (const QJsonObject &o : all)
            bulk += o.value("type").toString() == QLatin1String("com.example.bulk");
        QVERIFY2(bulk == 0 || bulk == 200000, qPrintable(QString::number(bulk)));
        QCOMPARE(int(all.size()) - bulk, 10);
        if (bulk == 200000)
            qInfo("the enqueue had committed before the kill");
        // The outbox is usable at once: a new enqueue and a relay work.
        enqueueOne();
        QCOMPARE(listJson({"--status", "pending", "--limit", "1000000"}).size(), 11 + bulk);
    }

    void retryReplayDeleteCleanup()
    {
        const QString a = enqueueOne();
        const QString b = enqueueOne({"--type", "other"});
        Receiver receiver;
        QVERIFY(!receiver.listen().isError());
        ReceiverFaults f;
        f.status = 410;
        receiver.setFaults(f);
        QCOMPARE(run({"relay", "--target", receiver.url().toString(), "--once"}).exitCode, 1);
        QCOMPARE(listJson({"--status", "failed"}).size(), 2);
        QCOMPARE(listJson({"--status", "failed"}).first().value("last_error").toString(),
            QStringLiteral("HTTP 410 Gone: simulated failure (status 410)"));

        // The failures, grouped: two types, one cause, each shown with a real error (issue 27: digits as written).
        Run r = run({"failures"});
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(r.out.count('\n'), 2);
        QVERIFY2(r.out.contains("410  HTTP 410 Gone: simulated failure (status 410)"), r.out.constData());
        QVERIFY2(!r.out.contains('#'), r.out.constData());
        // By cause alone: one group of both types.
        r = run({"failures", "--by-cause"});
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(r.out.count('\n'), 1);
        QVERIFY2(r.out.trimmed().startsWith("2  *  410  HTTP 410 Gone"), r.out.constData());
        r = run({"failures", "--by-cause", "--json"});
        const QJsonObject merged = QJsonDocument::fromJson(r.out.trimmed()).object();
        QCOMPARE(merged.value("count").toInt(), 2);
        QVERIFY(merged.value("type").isNull());
        QCOMPARE(merged.value("cause").toString(), QStringLiteral("HTTP # Gone: simulated failure (status #)"));
        r = run({"failures", "--type", "other", "--json"});
        QCOMPARE(r.exitCode, 0);
        const QJsonObject group = QJsonDocument::fromJson(r.out.trimmed()).object();
        QCOMPARE(group.value("count").toInt(), 1);
        QCOMPARE(group.value("http_status").toInt(), 410);
        QCOMPARE(group.value("example").toString(), QStringLiteral("HTTP 410 Gone: simulated failure (status 410)"));

        r = run({"retry", a});
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(r.out.trimmed(), QByteArray("retried 1, skipped 0"));
        // The retry is in the event's history, by whom and with which program.
        r = run({"show", a, "--json"});
        const QJsonArray history = QJsonDocument::fromJson(r.out.trimmed()).object().value("history").toArray();
        QCOMPARE(history.last().toObject().value("outcome").toString(), QStringLiteral("operator"));
        QCOMPARE(history.last().toObject().value("error").toString(), QStringLiteral("manual retry"));
        QVERIFY2(history.last().toObject().value("relayer").toString().endsWith(QStringLiteral(" (outboxctl)")),
            qPrintable(history.last().toObject().value("relayer").toString()));
        r = run({"retry", a}); // no longer failed
        QCOMPARE(r.exitCode, 1);
        QCOMPARE(r.out.trimmed(), QByteArray("retried 0, skipped 1"));
        QCOMPARE(r.errLines().size(), 1);
        r = run({"retry", "--all-failed", "--type", "other"});
        QCOMPARE(r.out.trimmed(), QByteArray("retried 1, skipped 0"));
        QCOMPARE(listJson({"--status", "pending"}).size(), 2);

        receiver.setFaults({});
        QCOMPARE(run({"relay", "--target", receiver.url().toString(), "--drain"}).exitCode, 0);
        r = run({"replay", a});
        QCOMPARE(r.exitCode, 0);
        const QString copy = QString::fromUtf8(r.out.trimmed());
        QVERIFY(copy != a);
        const auto pending = listJson({"--status", "pending"});
        QCOMPARE(pending.size(), 1);
        QCOMPARE(pending.first().value("id").toString(), copy);
        QCOMPARE(pending.first().value("replay_of").toString(), a);
        QCOMPARE(pending.first().value("extensions").toObject().value("replayof").toString(), a);

        r = run({"delete", copy});
        QCOMPARE(r.out.trimmed(), QByteArray("deleted 1, skipped 0"));
        r = run({"cleanup", "--older-than", "1h"});
        QCOMPARE(r.out.trimmed(), QByteArray("deleted 0 events"));
        QTest::qWait(5);
        r = run({"cleanup", "--older-than", "0s"});
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(r.out.trimmed(), QByteArray("deleted 2 events"));
        QCOMPARE(listJson().size(), 0);
    }

    void relaySettingsFromConfigFileAndEnvironment()
    {
        Receiver receiver;
        QVERIFY(!receiver.listen().isError());
        const QString conf = m_dir.filePath(QStringLiteral("relay-%1.conf").arg(QCoreApplication::applicationPid()));
        QFile f(conf);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("# a relayer's settings\ntarget = " + receiver.url().toString().toUtf8()
            + "\nmode = structured\nbatch-size = 2\n");
        f.close();
        for (int i = 0; i < 3; ++i)
            enqueueOne();
        Run r = run({"relay", "--config", conf, "--drain"});
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(receiver.requestCount(), 3);
        QCOMPARE(receiver.requests().first().decoded.mode, ContentMode::Structured); // from the file
        // The environment wins over the file, and a flag over both.
        receiver.clear();
        for (int i = 0; i < 3; ++i)
            enqueueOne();
        r = run({"relay", "--config", conf, "--drain"}, {}, true, {{"OUTBOX_MODE", "batch"}});
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(receiver.requestCount(), 2); // batches of 2 (file) in batch mode (environment)
        QCOMPARE(receiver.requests().first().decoded.mode, ContentMode::Batch);
        receiver.clear();
        enqueueOne();
        r = run({"relay", "--config", conf, "--drain", "--mode", "binary"}, {}, true, {{"OUTBOX_MODE", "batch"}});
        QCOMPARE(receiver.requests().first().decoded.mode, ContentMode::Binary);
        // A mistake in the file is a usage error naming the line.
        QVERIFY(f.open(QIODevice::Append));
        f.write("colour = blue\n");
        f.close();
        r = run({"relay", "--config", conf, "--drain"});
        QCOMPARE(r.exitCode, 2);
        QCOMPARE(r.errLines().size(), 1);
        QVERIFY2(r.err.contains(":5: unknown setting 'colour'"), r.err.constData());
    }

    void badInputGivesExitTwoAndOneLine_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<bool>("withDb");
        QTest::addColumn<QString>("expected");
        QTest::newRow("malformed url") << QStringList{"--db", "foo://bar", "list"} << false
                                       << "unknown database URL scheme";
        QTest::newRow("sqlite url without path") << QStringList{"--db", "sqlite:", "list"} << false << "no file path";
        QTest::newRow("invalid json") << QStringList{"enqueue", "--type", "t", "--source", "s", "--data", "{bad"}
                                      << true << "not valid JSON";
        QTest::newRow("unknown status") << QStringList{"list", "--status", "stuck"} << true << "unknown status 'stuck'";
        QTest::newRow("unknown command") << QStringList{"frobnicate"} << true << "unknown command 'frobnicate'";
        QTest::newRow("unknown option") << QStringList{"list", "--colour"} << true << "Unknown option 'colour'";
        QTest::newRow("missing type") << QStringList{"enqueue", "--source", "s"} << true << "needs --type and --source";
        QTest::newRow("bad batch size") << QStringList{"relay", "--target", "http://127.0.0.1:9/", "--batch-size",
            "lots"} << true << "invalid batch-size 'lots'";
        QTest::newRow("malformed target")
            << QStringList{"relay", "--target", "http//nohost", "--once"} << true << "malformed target URL";
        QTest::newRow("bad mode") << QStringList{"relay", "--target", "http://127.0.0.1:9/", "--mode", "carrier-pigeon"}
                                  << true << "unknown mode";
        QTest::newRow("bad duration") << QStringList{"cleanup", "--older-than", "7 parsecs"} << true
                                      << "invalid duration";
        QTest::newRow("bad extension") << QStringList{"enqueue", "--type", "t", "--source", "s", "--ext", "Bad_Name=1"}
                                       << true << "lower-case letters and digits";
        QTest::newRow("duplicate id") << QStringList{"enqueue", "--type", "t", "--source", "s", "--id", "fixed"} << true
                                      << "already in the outbox";
        QTest::newRow("sql in filter") << QStringList{"retry", "--all-failed", "--type",
            "x'; DROP TABLE outbox_events; --"}
                                       << true << QString();
        QTest::newRow("escape in key") << QStringList{"enqueue", "--type", "t", "--source", "s", "--key", "k\x1b[2J"}
                                       << true << "attribute 'ordering key' contains a control character";
        QTest::newRow("huge type") << QStringList{"enqueue", "--type", QString(3000, QLatin1Char('t')), "--source", "s"}
                                   << true << "at most 2048 are allowed";
        QTest::newRow("id with spaces") << QStringList{"enqueue", "--type", "t", "--source", "s", "--id", " x "} << true
                                        << "must not start or end with white space";
    }

    void badInputGivesExitTwoAndOneLine()
    {
        QFETCH(QStringList, args);
        QFETCH(bool, withDb);
        QFETCH(QString, expected);
        enqueueOne({"--id", "fixed"});
        const QByteArray before = fingerprint();
        const Run r = run(args, {}, withDb);
        if (expected.isEmpty()) { // hostile but valid: runs, and harms nothing
            QCOMPARE(r.exitCode, 0);
        } else {
            QCOMPARE(r.exitCode, 2);
            QCOMPARE(r.errLines().size(), 1);
            QVERIFY2(r.err.contains(expected.toUtf8()), r.err.constData());
            QVERIFY(r.err.startsWith("outboxctl: "));
            QVERIFY(!r.err.contains("secret"));
        }
        QCOMPARE(fingerprint(), before);
    }

    void unreachableServerIsARuntimeErrorWithTheAddressMasked()
    {
        const Run r = run({"--db", "postgresql://u:secret@127.0.0.1:1/db", "stats"}, {}, false);
        QCOMPARE(r.exitCode, 1);
        QCOMPARE(r.errLines().size(), 1);
        QVERIFY2(r.err.startsWith("outboxctl: cannot connect to postgresql://u:***@127.0.0.1:1/db"), r.err.constData());
        QVERIFY(!r.err.contains("secret"));
    }

    void fileThatIsNotADatabase()
    {
        if (testsupport::isServer())
            QSKIP("a SQLite matter");
        const QString path = m_dir.filePath(QStringLiteral("notes.txt"));
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("just some notes\n");
        f.close();
        for (const QStringList &args :
            {QStringList{"list"}, QStringList{"init"}, QStringList{"enqueue", "--type", "t", "--source", "s"}}) {
            const Run r = run(QStringList{"--db", "sqlite://" + path} + args, {}, false);
            QCOMPARE(r.exitCode, 2);
            QCOMPARE(r.errLines().size(), 1);
            QVERIFY2(r.err.contains("is not a SQLite database"), r.err.constData());
        }
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), QByteArray("just some notes\n"));
        const Run missing = run({"--db", "sqlite://" + m_dir.filePath("nowhere.db"), "stats"}, {}, false);
        QCOMPARE(missing.exitCode, 2);
        QVERIFY(missing.err.contains("no outbox at"));
        QVERIFY(!QFile::exists(m_dir.filePath("nowhere.db")));
    }

    void defaultDatabaseAndEnvironment()
    {
        if (testsupport::isServer())
            QSKIP("the default outbox is a SQLite file");
        Run r = run({"init"}, {}, false);
        QCOMPARE(r.exitCode, 0);
        QVERIFY2(r.out.contains(m_dir.filePath("xdg").toUtf8()), r.out.constData());
        QProcess p;
        QProcessEnvironment env = environment();
        env.insert(QStringLiteral("OUTBOX_DB"), m_db);
        p.setProcessEnvironment(env);
        p.start(QStringLiteral(OUTBOXCTL_PATH), {"stats", "--json"});
        QVERIFY(p.waitForFinished(10000));
        QCOMPARE(p.exitCode(), 0);
        QVERIFY(QJsonDocument::fromJson(p.readAllStandardOutput()).object().contains("pending"));
    }

    void receivePrintsOneLinePerEvent()
    {
        enqueueOne({"--id", "r-1", "--subject", "sub"});
        enqueueOne({"--id", "r-2"});
        QProcess receiver;
        const QString url = startReceive(receiver, {"--count", "2"});
        QVERIFY(!url.isEmpty());
        const Run r = run({"relay", "--target", url, "--drain"});
        QCOMPARE(r.exitCode, 0);
        const QByteArray ended = receiverEnded(receiver);
        QVERIFY2(ended.isEmpty(), ended.constData());
        const QList<QByteArray> lines = receiver.readAllStandardOutput().trimmed().split('\n');
        QCOMPARE(lines.size(), 2);
        const QJsonObject first = QJsonDocument::fromJson(lines.first()).object();
        QCOMPARE(first.value("id").toString(), QStringLiteral("r-1"));
        QCOMPARE(first.value("subject").toString(), QStringLiteral("sub"));
        QCOMPARE(first.value("valid").toBool(), true);
        QCOMPARE(first.value("mode").toString(), QStringLiteral("binary"));
        QCOMPARE(first.value("data").toObject().value("n").toInt(), 1);
    }

    // Issue 27: fault rules in `outboxctl receive` choose events by type, source or subject: the audit event
    // gets the rule's 422 (and fails for good, with that status), the "slow-" subject its delay and 202, the
    // rest the plain answer; a rule that is not one is refused with exit 2 and one line naming the key.
    void receiveFaultRulesChooseEvents()
    {
        const QString order = enqueueOne({"--type", "com.example.order.created"});
        const QString audit = enqueueOne({"--type", "com.example.audit"});
        const QString slow = enqueueOne({"--type", "com.example.order.cancelled", "--subject", "slow-1"});
        QProcess receiver;
        const QString url = startReceive(receiver,
            {"--count", "3", "--rule", "type=com.example.audit,status=422,retry-after=7", "--rule",
                "subject=slow-*,delay=300,status=202", "--rule", "source=/elsewhere,drop"});
        QVERIFY(!url.isEmpty());
        QElapsedTimer clock;
        clock.start();
        const Run r = run({"relay", "--target", url, "--drain", "--concurrency", "1"});
        QCOMPARE(r.exitCode, 1); // one event failed
        QVERIFY2(r.out.contains("processed 3: 2 sent, 0 to retry, 1 failed"), r.out.constData());
        QVERIFY(clock.elapsed() >= 300); // the slow event waited for its answer
        const QByteArray ended = receiverEnded(receiver);
        QVERIFY2(ended.isEmpty(), ended.constData());
        QHash<QString, int> replies;
        for (const QByteArray &line : receiver.readAllStandardOutput().trimmed().split('\n')) {
            const QJsonObject o = QJsonDocument::fromJson(line).object();
            replies.insert(o.value("id").toString(), o.value("reply_status").toInt());
        }
        QCOMPARE(replies.value(order), 200);
        QCOMPARE(replies.value(audit), 422);
        QCOMPARE(replies.value(slow), 202);
        QHash<QString, QJsonObject> rows;
        for (const QJsonObject &o : listJson())
            rows.insert(o.value("id").toString(), o);
        QCOMPARE(rows.value(order).value("status").toString(), QStringLiteral("sent"));
        QCOMPARE(rows.value(slow).value("status").toString(), QStringLiteral("sent"));
        QCOMPARE(rows.value(audit).value("status").toString(), QStringLiteral("failed"));
        QCOMPARE(rows.value(audit).value("last_http_status").toInt(), 422);

        for (const QString &bad : {QStringLiteral("type=x,colour=red"), QStringLiteral("type=x"),
                 QStringLiteral("status=abc"), QStringLiteral("hang=no")}) {
            const Run refused = run({"receive", "--port", "0", "--rule", bad});
            QCOMPARE(refused.exitCode, 2);
            QCOMPARE(refused.err.trimmed().count('\n'), 0);
            QVERIFY2(refused.err.contains("fault rule"), refused.err.constData());
        }
    }

    // Issue 26: what the operator reads is what is stored. show (pretty and --json) and receive's JSON lines
    // keep a 20-digit integer, -0, 1.50 and the key order; C1 controls from outside (U+009B, a CSI) are
    // written as \u escapes, never raw.
    void jsonIsShownAsStored()
    {
        const QByteArray data = "{\"z\": 12345678901234567890, \"a\": -0, \"n\": [1.50, {\"k\": \"v\"}], \"e\": {}}";
        const QString id = enqueueOne({"--id", "as-stored", "--data", QString::fromUtf8(data)});
        Run r = run({"show", id});
        QCOMPARE(r.exitCode, 0);
        QVERIFY2(r.out.contains("\"z\": 12345678901234567890,\n"), r.out.constData());
        QVERIFY2(r.out.contains("\"a\": -0,"), r.out.constData());
        QVERIFY2(r.out.contains("1.50"), r.out.constData());
        QVERIFY2(r.out.indexOf("\"z\"") < r.out.indexOf("\"a\": -0"), r.out.constData());
        QVERIFY(QJsonDocument::fromJson(r.out).isObject()); // still one JSON document
        r = run({"show", "--json", id});
        QCOMPARE(r.out.trimmed().count('\n'), 0);
        QVERIFY2(r.out.contains("\"data\":{\"z\":12345678901234567890,\"a\":-0,\"n\":[1.50,{\"k\":\"v\"}],\"e\":{}}"),
            r.out.constData());
        QVERIFY(QJsonDocument::fromJson(r.out).isObject());

        QProcess receiver;
        const QString url = startReceive(receiver, {"--count", "1"});
        QVERIFY(!url.isEmpty());
        QCOMPARE(run({"relay", "--target", url, "--drain"}).exitCode, 0);
        const QByteArray ended = receiverEnded(receiver);
        QVERIFY2(ended.isEmpty(), ended.constData());
        const QByteArray line = receiver.readAllStandardOutput().trimmed();
        QVERIFY2(line.contains("\"data\":{\"z\":12345678901234567890,\"a\":-0,"), line.constData());

        // A receiver's error text with C1 controls: escaped in show's JSON, blanked in list's table.
        QProcess server;
        server.start(QStringLiteral("python3"),
            {QStringLiteral("-c"),
                QStringLiteral("import socket\n"
                               "s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(5); "
                               "print(s.getsockname()[1], flush=True)\n"
                               "c,_=s.accept(); c.recv(65536)\n"
                               "b=b'\\xc2\\x9b31mC1RED \\xc2\\x9d0;t\\xc2\\x9c'\n"
                               "c.sendall(b'HTTP/1.1 400 Bad\\r\\nContent-Length: '+str(len(b)).encode()+"
                               "b'\\r\\nConnection: close\\r\\n\\r\\n'+b); c.close()\n")});
        QVERIFY(server.waitForReadyRead(10000));
        const QString port = QString::fromLatin1(server.readLine().trimmed());
        const QString bad = enqueueOne();
        QCOMPARE(run({"relay", "--once", "--target", QStringLiteral("http://127.0.0.1:%1/").arg(port)}).exitCode, 1);
        server.waitForFinished(5000);
        for (const QStringList &args : {QStringList{"show", bad}, QStringList{"show", "--json", bad},
                 QStringList{"list"}, QStringList{"list", "--json"}}) {
            r = run(args);
            QVERIFY2(r.out.contains("C1RED"), r.out.constData());
            QVERIFY2(!r.out.contains("\xc2\x9b") && !r.out.contains("\xc2\x9d"), qPrintable(args.join(' ')));
        }
        QVERIFY(run({"show", bad}).out.contains("\\u009b31mC1RED"));
    }

    // `relayers` and `stats` show a running relayer with what it holds, then the same relayer gone after a
    // SIGKILL, with its leases; a stopped one leaves the list.
    void relayersShowsLiveAndGoneRelayers()
    {
        for (int i = 0; i < 20; ++i)
            enqueueOne();
        Receiver receiver;
        QVERIFY(!receiver.listen().isError());
        ReceiverFaults f;
        f.hang = true; // every request stays in flight: the relayer holds its events
        receiver.setFaults(f);
        QProcess relay;
        relay.setProcessEnvironment(environment());
        relay.start(QStringLiteral(OUTBOXCTL_PATH),
            {"--db", m_db, "relay", "--target", receiver.url().toString(), "--concurrency", "2", "--timeout", "60000",
                "--quiet"});
        QVERIFY(relay.waitForStarted(5000));
        QTRY_VERIFY_WITH_TIMEOUT(receiver.requestCount() >= 2, 10000);
        QList<QJsonObject> rows;
        auto relayers = [&] {
            rows.clear();
            const Run r = run({"relayers", "--json"});
            for (const QByteArray &line : r.out.split('\n')) {
                if (!line.isEmpty())
                    rows << QJsonDocument::fromJson(line).object();
            }
            return r.exitCode;
        };
        QCOMPARE(relayers(), 0);
        QCOMPARE(rows.size(), 1);
        QCOMPARE(rows.first().value("state").toString(), QStringLiteral("alive"));
        QCOMPARE(rows.first().value("pid").toInteger(), relay.processId());
        QCOMPARE(rows.first().value("held").toInt(), 20); // the batch claimed
        QVERIFY(!rows.first().value("last_renewal").toString().isEmpty());
        const Run table = run({"relayers"});
        QVERIFY2(table.out.contains(" alive ") && table.out.contains(QByteArray::number(relay.processId())),
            table.out.constData());
        QVERIFY2(run({"stats"}).out.contains("relayers: 1 alive\n"), "stats names the live relayer");

        ::kill(pid_t(relay.processId()), SIGKILL);
        relay.waitForFinished(5000);
        // Its session ends with it (PostgreSQL); its process is gone (SQLite). Its leases remain until someone
        // takes over.
        QTRY_VERIFY_WITH_TIMEOUT(
            relayers() == 0 && rows.size() == 1 && rows.first().value("state").toString() == QLatin1String("gone"),
            10000);
        QCOMPARE(rows.first().value("held").toInt(), 20);
        const Run stats = run({"stats"});
        QVERIFY2(stats.out.contains("relayers: 0 alive, 1 gone (20 events held by relayers not known to be alive)"),
            stats.out.constData());
        const Run metrics = run({"stats", "--json"});
        QCOMPARE(QJsonDocument::fromJson(metrics.out).object().value("relayers").toArray().size(), 1);

        // The next relayer takes the gone one's events over at once, sends them, and leaves the list when stopped.
        receiver.setFaults({});
        QProcess next;
        next.setProcessEnvironment(environment());
        next.start(QStringLiteral(OUTBOXCTL_PATH), {"--db", m_db, "relay", "--target", receiver.url().toString()});
        QVERIFY(next.waitForStarted(5000));
        QTRY_COMPARE_WITH_TIMEOUT(listJson({"--status", "sent"}).size(), 20, testsupport::isServer() ? 20000 : 10000);
        ::kill(pid_t(next.processId()), SIGTERM);
        QVERIFY(next.waitForFinished(10000));
        QVERIFY(QString::fromUtf8(next.readAllStandardError())
                    .contains(QStringLiteral("is gone; released the 20 events it held")));
        QCOMPARE(relayers(), 0);
        QCOMPARE(rows.size(), 0);
        QCOMPARE(run({"relayers"}).out, QByteArray("no relayer runs and no event is leased\n"));
    }

    void sigtermStopsARelayerCleanly()
    {
        for (int i = 0; i < 30; ++i)
            enqueueOne();
        Receiver receiver;
        QVERIFY(!receiver.listen().isError());
        ReceiverFaults f;
        f.delayMs = 200;
        receiver.setFaults(f);
        QProcess relay;
        relay.setProcessEnvironment(environment());
        relay.start(QStringLiteral(OUTBOXCTL_PATH),
            {"--db", m_db, "relay", "--target", receiver.url().toString(), "--concurrency", "2", "--quiet"});
        QVERIFY(relay.waitForStarted(5000));
        QTRY_VERIFY_WITH_TIMEOUT(receiver.requestCount() >= 2, 5000);
        ::kill(pid_t(relay.processId()), SIGTERM);
        QVERIFY(relay.waitForFinished(10000));
        QCOMPARE(relay.exitStatus(), QProcess::NormalExit);
        QCOMPARE(relay.exitCode(), 0);
        testsupport::AppConnection app(m_spec);
        QCOMPARE(app.scalar(QStringLiteral("SELECT COUNT(*) FROM %1 WHERE lease_owner IS NOT NULL")
                                .arg(testsupport::eventsWithLeases()))
                     .toInt(),
            0);
        const int sent = app.scalar("SELECT COUNT(*) FROM outbox_events WHERE status = 'sent'").toInt();
        QVERIFY(sent >= 2 && sent < 30);
        QCOMPARE(sent, receiver.requestCount());
    }

    static QByteArray httpGet(const QString &host, quint16 port, const QByteArray &path)
    {
        QTcpSocket socket;
        socket.connectToHost(host, port);
        if (!socket.waitForConnected(5000))
            return {};
        socket.write("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
        QByteArray answer;
        while (socket.waitForReadyRead(5000))
            answer += socket.readAll();
        return answer;
    }

    // Issue 26: a target that is down shows where an operator looks, and charges no attempt: /metrics
    // (outbox_target_up), /healthz, stats, relayers; --drain to it ends at once with exit 1. When it comes
    // back, everything is delivered.
    void unavailableTargetShowsEverywhere()
    {
        for (int i = 0; i < 5; ++i)
            enqueueOne();
        Receiver receiver;
        QVERIFY(!receiver.listen().isError());
        const QString target = receiver.url().toString();
        const quint16 receiverPort = receiver.port();
        receiver.close();
        Run r = run({"relay", "--target", target, "--drain"});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("unavailable") && r.err.contains("refused"), r.err.constData());
        QCOMPARE(listJson().first().value("attempts").toInt(), 0);

        QProcess relay;
        relay.setProcessEnvironment(environment());
        relay.start(QStringLiteral(OUTBOXCTL_PATH),
            {"--db", m_db, "relay", "--target", target, "--quiet", "--metrics-port", "0", "--max-retries", "2",
                "--retry-backoff", "50"});
        QVERIFY(relay.waitForStarted(5000));
        relay.setReadChannel(QProcess::StandardError);
        QRegularExpressionMatch m;
        while (!m.hasMatch() && (relay.canReadLine() || relay.waitForReadyRead(5000)))
            m = QRegularExpression("metrics at http://([0-9.]+):(\\d+)/").match(QString::fromUtf8(relay.readLine()));
        QVERIFY(m.hasMatch());
        const QString host = m.captured(1);
        const quint16 port = quint16(m.captured(2).toUInt());
        QTRY_VERIFY_WITH_TIMEOUT(
            httpGet(host, port, "/metrics").contains("outbox_target_up{route=\"default\"} 0\n"), 10000);
        const QByteArray health = httpGet(host, port, "/healthz");
        QVERIFY2(health.startsWith("HTTP/1.1 200") && health.contains("unavailable since")
                && health.contains(target.toUtf8()),
            health.constData());
        QTRY_VERIFY_WITH_TIMEOUT(run({"stats"}).out.contains("unavailable since"), 10000);
        r = run({"stats"});
        QVERIFY2(r.out.contains("target " + target.toUtf8()) && r.out.contains("next probe in"), r.out.constData());
        r = run({"relayers", "--json"});
        const QJsonObject row = QJsonDocument::fromJson(r.out.split('\n').first()).object();
        QCOMPARE(row.value("target_unavailable").toObject().value("target").toString(), target);
        QTest::qWait(1500); // longer than the whole retry schedule (2 attempts, 50 ms)
        for (const QJsonObject &e : listJson())
            QCOMPARE(e.value("status").toString(), QStringLiteral("pending"));

        Receiver back;
        QVERIFY(!back.listen(receiverPort).isError());
        QTRY_COMPARE_WITH_TIMEOUT(back.eventCount(), 5, 15000);
        QTRY_VERIFY_WITH_TIMEOUT(
            httpGet(host, port, "/metrics").contains("outbox_target_up{route=\"default\"} 1\n"), 5000);
        QVERIFY(!run({"stats"}).out.contains("unavailable"));
        ::kill(pid_t(relay.processId()), SIGTERM);
        QVERIFY(relay.waitForFinished(10000));
        const QByteArray log = relay.readAllStandardError();
        QVERIFY2(log.contains("available again after"), log.constData());
        for (const QJsonObject &e : listJson()) {
            QCOMPARE(e.value("status").toString(), QStringLiteral("sent"));
            QCOMPARE(e.value("attempts").toInt(), 1);
        }
    }

    void metricsMatchTheDatabase()
    {
        for (int i = 0; i < 6; ++i)
            enqueueOne();
        Receiver receiver;
        QVERIFY(!receiver.listen().isError());
        QProcess relay;
        relay.setProcessEnvironment(environment());
        relay.start(QStringLiteral(OUTBOXCTL_PATH),
            {"--db", m_db, "relay", "--target", receiver.url().toString(), "--quiet", "--metrics-port", "0"});
        QVERIFY(relay.waitForStarted(5000));
        relay.setReadChannel(QProcess::StandardError);
        QRegularExpressionMatch m;
        while (!m.hasMatch() && (relay.canReadLine() || relay.waitForReadyRead(5000)))
            m = QRegularExpression("metrics at http://([0-9.]+):(\\d+)/").match(QString::fromUtf8(relay.readLine()));
        QVERIFY(m.hasMatch());
        const QString host = m.captured(1);
        const quint16 port = quint16(m.captured(2).toUInt());
        QTRY_COMPARE_WITH_TIMEOUT(receiver.eventCount(), 6, 10000);
        QTest::qWait(200); // the relayer's signals reach the metrics counters
        const QByteArray metrics = httpGet(host, port, "/metrics");
        QVERIFY2(metrics.startsWith("HTTP/1.1 200"), metrics.constData());
        auto storage = testsupport::openStorage(m_spec);
        const auto st = *storage->stats();
        QCOMPARE(st.sent, 6);
        QVERIFY2(metrics.contains("outbox_events_delivered_total{outcome=\"sent\"} 6\n"), metrics.constData());
        QVERIFY(metrics.contains("outbox_events{status=\"sent\"} " + QByteArray::number(st.sent) + "\n"));
        QVERIFY(metrics.contains("outbox_events{status=\"pending\"} " + QByteArray::number(st.pending) + "\n"));
        QVERIFY(metrics.contains("outbox_delivery_duration_seconds_count 6\n"));
        QVERIFY(metrics.contains("outbox_oldest_pending_age_seconds 0.000\n"));
        QVERIFY(metrics.contains("outbox_up 1\n"));
        // The relayer itself, registered while it runs, holding nothing now.
        QVERIFY2(metrics.contains("outbox_relayers{state=\"alive\"} 1\noutbox_relayers{state=\"gone\"} 0\n"),
            metrics.constData());
        QVERIFY2(metrics.contains(QStringLiteral(":%1:").arg(relay.processId()).toUtf8())
                && metrics.contains("\",state=\"alive\"} 0\n"),
            metrics.constData());
        const QByteArray health = httpGet(host, port, "/healthz");
        QVERIFY2(health.startsWith("HTTP/1.1 200") && health.endsWith("ok\n"), health.constData());
        ::kill(pid_t(relay.processId()), SIGTERM);
        QVERIFY(relay.waitForFinished(10000));
        QCOMPARE(relay.exitCode(), 0);
    }

    // libpq parameters in a PostgreSQL URL are honoured or refused, never dropped: sslmode=require against a
    // server without TLS fails instead of connecting in plain text.
    void postgresUrlParameters()
    {
        if (!testsupport::isPostgres())
            QSKIP("a PostgreSQL URL");
        const QString base = m_db;
        m_db = base + QStringLiteral("?sslmode=require");
        Run r = run({"stats"});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("SSL"), r.err.constData());
        m_db = base + QStringLiteral("?sslmode=disable&application_name=outbox%20test&connect_timeout=3");
        r = run({"stats"});
        QCOMPARE(r.exitCode, 0);
        m_db = base + QStringLiteral("?sslmod=require");
        r = run({"stats"});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("unknown PostgreSQL URL parameter 'sslmod'"), r.err.constData());
        m_db = base;
        QCOMPARE(
            ConnectionSpec::fromUrl(base + QStringLiteral("?sslmode=verify-full&options=-c%20statement_timeout%3D5000"))
                ->toUrl(),
            base + QStringLiteral("?sslmode=verify-full&options=-c%20statement_timeout%3D5000"));
    }

    // Issue 26: MariaDB's TLS parameters mean TLS is required, as sslmode=require does on PostgreSQL: against
    // the fixture's server (no TLS) ssl_ca is refused instead of connecting in plain text; a CA file that
    // cannot be read is a usage error; a server started here with TLS is verified against the CA given.
    void mariadbTlsParametersMeanTlsIsRequired()
    {
        if (!testsupport::isMysql())
            QSKIP("a MySQL/MariaDB URL");
        const QString base = m_db;
        QTemporaryDir tls, other;
        QVERIFY(testsupport::makeTestCertificates(tls.path()) && testsupport::makeTestCertificates(other.path()));
        const QString ca = tls.filePath(QStringLiteral("ca.pem"));
        m_db = base + QStringLiteral("?ssl_ca=") + ca;
        Run r = run({"stats"});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("does not offer TLS") && r.errLines().size() == 1, r.err.constData());
        m_db = base + QStringLiteral("?ssl_ca=") + tls.filePath(QStringLiteral("missing.pem"));
        r = run({"stats"});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("cannot be read"), r.err.constData());

        // A second MariaDB that offers TLS with a certificate of our CA.
        const QString state = tls.filePath(QStringLiteral("server.env"));
        // Detached, so that its processes are not this test's children (enqueueJsonLinesStreams measures those).
        QProcess server;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("MARIADB_TLS_DIR"), tls.path());
        server.setProcessEnvironment(env);
        server.setProgram(QStringLiteral("bash"));
        server.setArguments({QStringLiteral(MARIADB_SERVER_SCRIPT), "start", state});
        QVERIFY(server.startDetached());
        auto stop = qScopeGuard([&] { // a small child: bash and kill
            QProcess::execute(QStringLiteral("bash"), {QStringLiteral(MARIADB_SERVER_SCRIPT), "stop", state});
        });
        QFile stateFile(state); // written whole (renamed into place) once the server is up
        QTRY_VERIFY_WITH_TIMEOUT(stateFile.exists(), 120000);
        QVERIFY(stateFile.open(QIODevice::ReadOnly));
        QString url;
        for (const QByteArray &line : stateFile.readAll().split('\n')) {
            if (line.startsWith("MARIADBTEST_URL="))
                url = QString::fromUtf8(line.mid(16));
        }
        m_db = url + QStringLiteral("?ssl_ca=") + ca;
        r = run({"init"});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QVERIFY2(r.out.contains("ssl_ca=%2F"), r.out.constData()); // the URL shown as given, not mangled by arg()
        QCOMPARE(run({"stats"}).exitCode, 0);
        m_db = url + QStringLiteral("?ssl_ca=") + other.filePath(QStringLiteral("ca.pem")); // someone else's CA
        r = run({"stats"});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("certificate"), r.err.constData());
        m_db = base;
    }

    // Config values: quotes and a trailing comment are not part of the value; switches are not settings;
    // commands without arguments refuse extra ones.
    void configValuesAndStrayArguments()
    {
        Receiver receiver;
        QVERIFY(!receiver.listen().isError());
        enqueueOne();
        const QString conf = m_dir.filePath(QStringLiteral("quoted.conf"));
        QFile f(conf);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(
            "target = \"" + receiver.url().toString().toUtf8() + "\"   # our sink\nmode = 'batch' ; inline comment\n");
        f.close();
        Run r = run({"relay", "--config", conf, "--drain"});
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(receiver.requests().first().decoded.mode, ContentMode::Batch);
        QVERIFY(f.open(QIODevice::Append));
        f.write("drain = yes\n");
        f.close();
        r = run({"relay", "--config", conf});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("'drain' is a command-line switch, not a setting"), r.err.constData());
        for (const QStringList &args : {QStringList{"stats", "extra"}, QStringList{"init", "extra"},
                 QStringList{"cleanup", "--older-than", "1d", "extra"}}) {
            r = run(args);
            QCOMPARE(r.exitCode, 2);
            QVERIFY2(r.err.contains("unexpected argument 'extra'"), r.err.constData());
        }
    }

    // Read commands on someone else's database refuse it after a read-only look and leave it as it was: no
    // outbox tables, no WAL switch, no outbox_schema left behind in a table of another layout.
    void foreignDatabasesAreLeftAsTheyWere()
    {
        const ConnectionSpec foreign = testsupport::freshOutbox(m_dir); // a place, not yet an outbox
        {
            testsupport::AppConnection app(foreign);
            QSqlQuery q(app.db());
            QVERIFY(q.exec(QStringLiteral("CREATE TABLE orders (id INTEGER PRIMARY KEY, total NUMERIC)")));
            QVERIFY(q.exec(QStringLiteral("INSERT INTO orders (id, total) VALUES (1, 42.5)")));
            QVERIFY(q.exec(QStringLiteral(
                "CREATE TABLE outbox_events (event_id VARCHAR(64) PRIMARY KEY, event_type TEXT, status TEXT)")));
        }
        auto snapshot = [&] {
            if (!testsupport::isServer()) {
                QFile f(foreign.database);
                f.open(QIODevice::ReadOnly);
                return QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256)
                    + (QFile::exists(foreign.database + QStringLiteral("-wal")) ? QByteArray("+wal") : QByteArray());
            }
            testsupport::AppConnection app(foreign);
            QSqlQuery q(app.db());
            q.exec(testsupport::isMysql()
                    ? QStringLiteral(
                        "SELECT GROUP_CONCAT(CONCAT(table_name, '.', column_name) ORDER BY table_name, "
                        "ordinal_position) FROM information_schema.columns WHERE table_schema = DATABASE()")
                    : QStringLiteral("SELECT string_agg(table_name || '.' || column_name, ',' ORDER BY table_name, "
                                     "ordinal_position) FROM information_schema.columns WHERE table_schema = "
                                     "current_schema()"));
            q.next();
            return q.value(0).toString().toUtf8();
        };
        const QByteArray before = snapshot();
        const QString saved = m_db;
        m_db = foreign.toUrl();
        Receiver receiver;
        QVERIFY(!receiver.listen().isError());
        for (const QStringList &args : {QStringList{"list"}, QStringList{"stats"}, QStringList{"show", "x"},
                 QStringList{"relay", "--once", "--target", receiver.url().toString()},
                 QStringList{"enqueue", "--type", "t", "--source", "s"}, QStringList{"retry", "--all-failed"}}) {
            const Run r = run(args);
            QCOMPARE(r.exitCode, 2);
            QCOMPARE(r.errLines().size(), 1);
            QVERIFY2(r.err.contains("has a table outbox_events that is not this engine's outbox (columns: event_id, "
                                    "event_type, status)"),
                r.err.constData());
            QCOMPARE(snapshot(), before);
        }
        {
            testsupport::AppConnection app(foreign);
            QSqlQuery(app.db()).exec(QStringLiteral("DROP TABLE outbox_events"));
        }
        const QByteArray withoutOutbox = snapshot();
        const Run r = run({"stats"});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("is a database but not an outbox (tables: orders)"), r.err.constData());
        QCOMPARE(snapshot(), withoutOutbox);
        QCOMPARE(receiver.requestCount(), 0);
        m_db = saved;
    }

    // A lock someone holds on the outbox table does not hang a command: it gives up after lock_timeout
    // (10 s) with one line that says so.
    void lockedTableIsABoundedWait()
    {
        if (!testsupport::isServer())
            QSKIP("a database server's lock");
        enqueueOne();
        testsupport::AppConnection locker(m_spec);
        QSqlQuery q(locker.db());
        QVERIFY(locker.db().transaction());
        QVERIFY(q.exec(testsupport::isMysql() ? QStringLiteral("LOCK TABLES outbox_events WRITE")
                                              : QStringLiteral("LOCK TABLE outbox_events IN ACCESS EXCLUSIVE MODE")));
        QElapsedTimer clock;
        clock.start();
        const Run r = run({"stats"});
        const qint64 ms = clock.elapsed();
        locker.db().rollback();
        QCOMPARE(r.exitCode, 1);
        QCOMPARE(r.errLines().size(), 1);
        QVERIFY2((r.err.contains("lock timeout") || r.err.contains("Lock wait timeout"))
                && r.err.contains("another session held a lock"),
            r.err.constData());
        QVERIFY2(ms >= 9000 && ms < 20000, qPrintable(QString::number(ms)));
    }

    // As a service, relay waits for a database server that is not up yet (with backoff, a line per try)
    // instead of exiting and running into systemd's start limit; SIGTERM ends the wait at once.
    void relayWaitsForTheDatabaseServer_data()
    {
        QTest::addColumn<QString>("scheme");
        QTest::newRow("postgresql") << QStringLiteral("postgresql");
        QTest::newRow("mysql") << QStringLiteral("mysql");
    }
    void relayWaitsForTheDatabaseServer()
    {
        QFETCH(QString, scheme);
        QTcpServer closed;
        QVERIFY(closed.listen(QHostAddress::LocalHost));
        const quint16 port = closed.serverPort();
        closed.close();
        QProcess relay;
        relay.start(QStringLiteral(OUTBOXCTL_PATH),
            {"--db", QStringLiteral("%1://outbox@127.0.0.1:%2/outbox").arg(scheme).arg(port), "relay", "--target",
                "http://127.0.0.1:9/"});
        QVERIFY(relay.waitForStarted());
        QVERIFY(!relay.waitForFinished(2500)); // still waiting
        const QByteArray err = relay.readAllStandardError();
        QVERIFY2(err.count("waiting for the database") >= 2, err.constData());
        QElapsedTimer clock;
        clock.start();
        ::kill(pid_t(relay.processId()), SIGTERM);
        QVERIFY(relay.waitForFinished(5000));
        QVERIFY(clock.elapsed() < 2000);
        QCOMPARE(relay.exitCode(), 0);
        QVERIFY(relay.readAllStandardError().contains("stopped before the database was reachable"));
    }

    // A server that answers but refuses (here: no such database) is a final error, not one to wait out: relay
    // says so in one line and exits at once, even as a service.
    void relayDoesNotWaitOutAFinalDatabaseError()
    {
        if (!testsupport::isServer())
            QSKIP("a database server's refusal");
        outbox::ConnectionSpec spec = testsupport::postgresServer();
        spec.database = QStringLiteral("no_such_outbox_db");
        QElapsedTimer clock;
        clock.start();
        const Run r = run({"--db", spec.toUrl(), "relay", "--target", "http://127.0.0.1:9/"}, {}, false);
        QVERIFY2(clock.elapsed() < 5000, qPrintable(QString::number(clock.elapsed())));
        QVERIFY(r.exitCode != 0);
        QCOMPARE(r.errLines().size(), 1);
        QVERIFY2(!r.err.contains("waiting for the database") && r.err.contains("no_such_outbox_db"), r.err.constData());
    }

    // enqueue --jsonl reads a line at a time: a 64 MB file is enqueued with a fraction of it in memory.
    void enqueueJsonLinesStreams()
    {
        const QString path = m_dir.filePath(QStringLiteral("big.jsonl"));
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        const QByteArray pad(4000, 'p');
        for (int i = 0; i < 16000; ++i)
            f.write("{\"type\":\"t\",\"source\":\"/big\",\"data\":{\"i\":" + QByteArray::number(i) + ",\"pad\":\"" + pad
                + "\"}}\n");
        f.close();
        QVERIFY(f.size() > 64'000'000);
        const Run r = run({"enqueue", "--jsonl", path});
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(r.out.trimmed(), QByteArray("16000"));
        f.remove();
#ifndef __SANITIZE_ADDRESS__ // AddressSanitizer's shadow memory and quarantine say nothing about ours
        rusage usage{};
        getrusage(RUSAGE_CHILDREN, &usage); // the largest of this test's outboxctl processes
        QVERIFY2(usage.ru_maxrss < 48 * 1024, qPrintable(QStringLiteral("%1 KiB").arg(usage.ru_maxrss)));
#endif
    }

    // A receiver's reason phrase and body with terminal escapes are stored as they came but never reach the
    // operator's terminal raw: list and show blank control characters.
    void terminalEscapesFromAReceiverAreBlanked()
    {
        QProcess server;
        server.start(QStringLiteral("python3"),
            {QStringLiteral("-c"),
                QStringLiteral(
                    "import socket\n"
                    "s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(5); print(s.getsockname()[1], flush=True)\n"
                    "while True:\n"
                    "  c,_=s.accept(); c.recv(65536)\n"
                    "  b=b'\\x1b]0;pwned\\x07\\x1b[2Jgone'\n"
                    "  c.sendall(b'HTTP/1.1 400 \\x1b[31mRED\\r\\nContent-Length: "
                    "'+str(len(b)).encode()+b'\\r\\nConnection: close\\r\\n\\r\\n'+b); c.close()\n")});
        QVERIFY(server.waitForReadyRead(10000));
        const QString port = QString::fromLatin1(server.readLine().trimmed());
        const QString id = enqueueOne();
        Run r = run({"relay", "--once", "--target", QStringLiteral("http://127.0.0.1:%1/").arg(port)});
        server.kill();
        server.waitForFinished();
        QCOMPARE(r.exitCode, 1);
        QVERIFY(!r.err.contains('\x1b'));
        r = run({"list"});
        QVERIFY2(r.out.contains("RED"), r.out.constData());
        QVERIFY(!r.out.contains('\x1b') && !r.out.contains('\x07'));
        r = run({"show", id});
        QVERIFY2(r.out.contains("gone"), r.out.constData());
        QVERIFY(!r.out.contains('\x1b') && !r.out.contains('\x07'));
    }

    // The demo uses its own outbox only: pointed at a real one (--db or $OUTBOX_DB) it neither relays that
    // outbox's backlog to its throwaway receiver nor adds sample events to it.
    void demoRunsOnItsOwnOutboxOnly()
    {
        enqueueOne(); // a real backlog in the test's outbox
        const QByteArray before = fingerprint();
        Run r = run({"demo"});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("demo uses its own outbox"), r.err.constData());
        r = run({"demo"}, {}, false, {{"OUTBOX_DB", m_db}});
        QCOMPARE(r.exitCode, 0);
        QVERIFY2(r.out.contains("outbox now: 0 pending, 0 failed, 3 sent"), r.out.constData());
        QVERIFY(r.out.contains("com.example.order.shipped"));
        QVERIFY(r.out.contains("outbox-console/demo.db"));
        QCOMPARE(fingerprint(), before);
    }
};

QTEST_GUILESS_MAIN(TestOutboxctl)
#include "tst_outboxctl.moc"
