// SPDX-License-Identifier: MIT
// outbox-bench --scenario stock: the relayer against receivers we did not write (Node's http, nginx) and our
// own, over loopback and over a veth pair into a network namespace, and wrk posting the same requests.

#include "benchcommon.h"
#include "benchdrain.h"

#include "receiver.h"
#include "relayer.h"
#include "sendevent.h"
#include "storage.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTcpSocket>
#include <QThread>

#include <optional>

#include <sqlite3.h>

using namespace outbox;

namespace bench {
namespace {

// A network namespace joined to this one by a veth pair (10.231.0.1 here, 10.231.0.2 there), removed again
// by the destructor. Needs the right to make namespaces (root in a sandbox is enough).
struct VethLink
{
    QString ns = QStringLiteral("obxbench%1").arg(QCoreApplication::applicationPid());
    QString local = QStringLiteral("obxa%1").arg(QCoreApplication::applicationPid() % 100000);
    QString remote = QStringLiteral("obxb%1").arg(QCoreApplication::applicationPid() % 100000);
    bool up = false;
    QString problem;

    static bool ip(const QStringList &args, QString *error = nullptr)
    {
        QProcess p;
        p.start(QStringLiteral("ip"), args);
        const bool ok = p.waitForFinished(10000) && p.exitCode() == 0;
        if (!ok && error)
            *error = QString::fromLocal8Bit(p.readAllStandardError()).trimmed();
        return ok;
    }
    VethLink()
    {
        // Namespaces left by an earlier run that was killed (their process is gone) would route the same subnet.
        QProcess list;
        list.start(QStringLiteral("ip"), {QStringLiteral("netns"), QStringLiteral("list")});
        list.waitForFinished(5000);
        for (const QByteArray &line : list.readAllStandardOutput().split('\n')) {
            const QByteArray name = line.split(' ').first();
            if (name.startsWith("obxbench")
                && !QFile::exists(QStringLiteral("/proc/") + QString::fromLatin1(name.mid(8)))) {
                ip({"link", "del", QStringLiteral("obxa%1").arg(name.mid(8).toInt() % 100000)});
                ip({"netns", "del", QString::fromLatin1(name)});
            }
        }
        const QString there = QStringLiteral("10.231.0.2/24");
        up = ip({"netns", "add", ns}, &problem)
            && ip({"link", "add", local, "type", "veth", "peer", "name", remote}, &problem)
            && ip({"link", "set", remote, "netns", ns}, &problem)
            && ip({"addr", "add", "10.231.0.1/24", "dev", local}, &problem)
            && ip({"link", "set", local, "up"}, &problem)
            && ip({"netns", "exec", ns, "ip", "addr", "add", there, "dev", remote}, &problem)
            && ip({"netns", "exec", ns, "ip", "link", "set", remote, "up"}, &problem)
            && ip({"netns", "exec", ns, "ip", "link", "set", "lo", "up"}, &problem);
    }
    ~VethLink()
    {
        ip({"link", "del", local});
        ip({"netns", "del", ns});
    }
};

quint16 freePort()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost);
    return probe.serverPort();
}

// A stock HTTP server answering 202 to every POST, in its own process, optionally inside a namespace.
class StockServer
{
public:
    enum Kind { Node, Nginx };
    StockServer(Kind kind, const QString &host, const QString &ns) : m_host(host)
    {
        m_port = freePort();
        QStringList command;
        if (kind == Node) {
            const QString js = QStringLiteral(
                "const s=require('http').createServer((q,r)=>{q.resume();q.on('end',()=>{r.writeHead(202);r.end()})});"
                "s.keepAliveTimeout=5000;s.listen(%1,'%2',()=>console.log('ready'))")
                                   .arg(m_port)
                                   .arg(host);
            command = {QStringLiteral("node"), QStringLiteral("-e"), js};
        } else {
            QFile conf(g_dir->filePath(QStringLiteral("nginx-%1.conf").arg(m_port)));
            conf.open(QIODevice::WriteOnly);
            conf.write(QStringLiteral("daemon off; worker_processes 1; pid %1/nginx-%2.pid; error_log stderr error;\n"
                                      "events { worker_connections 1024; }\n"
                                      "http { access_log off; client_body_temp_path %1/nginx-body-%2;\n"
                                      "  server { listen %3:%2; location / { return 202; } } }\n")
                           .arg(g_dir->path())
                           .arg(m_port)
                           .arg(host)
                           .toUtf8());
            conf.close();
            command = {
                QStringLiteral("nginx"), QStringLiteral("-p"), g_dir->path(), QStringLiteral("-c"), conf.fileName()};
        }
        if (!ns.isEmpty())
            command = QStringList{QStringLiteral("ip"), QStringLiteral("netns"), QStringLiteral("exec"), ns} + command;
        m_process.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        m_process.start(command.takeFirst(), command);
        // Ready when it accepts a connection.
        for (int i = 0; i < 200; ++i) {
            QTcpSocket probe;
            probe.connectToHost(host, m_port);
            if (probe.waitForConnected(100))
                return;
            QThread::msleep(25);
        }
        die(QStringLiteral("the %1 server did not start").arg(kind == Node ? "Node" : "nginx"));
    }
    ~StockServer()
    {
        m_process.terminate();
        if (!m_process.waitForFinished(5000))
            m_process.kill();
        m_process.waitForFinished();
    }
    QUrl url() const { return QUrl(QStringLiteral("http://%1:%2/events").arg(m_host).arg(m_port)); }

private:
    QString m_host;
    quint16 m_port = 0;
    QProcess m_process;
};

// Relays `count` events of `bytes` each in `mode` to the target with a running relayer until the outbox
// has nothing due (Relayer::drainAsync); events per second.
double drainRate(const QUrl &target, ContentMode mode, int count, int bytes)
{
    const QString path = newOutbox();
    {
        sqlite3 *db = nullptr;
        sqlite3_open(path.toUtf8().constData(), &db);
        sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
        sqlite3_stmt *insert = nullptr;
        sqlite3_prepare_v2(db,
            "INSERT INTO outbox_events (id, type, source, content_type, data, status, attempts, next_attempt_at, "
            "created_at)"
            " VALUES (?, 'com.example.order.created', '/bench', 'application/json', ?, 'pending', 0, ?, ?)",
            -1, &insert, nullptr);
        const QByteArray data = "{\"pad\":\"" + QByteArray(qMax(0, bytes - 10), 'x') + "\"}";
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        for (int i = 0; i < count; ++i) {
            const QByteArray id = createEventId().toLatin1();
            sqlite3_bind_text(insert, 1, id.constData(), int(id.size()), SQLITE_TRANSIENT);
            sqlite3_bind_blob(insert, 2, data.constData(), int(data.size()), SQLITE_STATIC);
            sqlite3_bind_int64(insert, 3, now);
            sqlite3_bind_int64(insert, 4, now);
            if (sqlite3_step(insert) != SQLITE_DONE)
                die(QString::fromUtf8(sqlite3_errmsg(db)));
            sqlite3_reset(insert);
        }
        sqlite3_finalize(insert);
        sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
        sqlite3_close(db);
    }
    RelayerConfig config;
    config.targetUrl = target;
    config.contentMode = mode;
    RelayOnceResult result;
    const double seconds = timedDrain(ConnectionSpec::sqlite(path), config, &result);
    QCoreApplication::processEvents();
    if (result.error)
        die(result.error.message());
    // Counted in the outbox afterwards: per-event signals would cost the relayer time in the measurement.
    auto storage = Storage::open(ConnectionSpec::sqlite(path));
    const qint64 sent = storage.isOk() ? (*storage)->stats()->sent : -1;
    if (sent != count)
        die(QStringLiteral("%1 of %2 events were delivered to %3").arg(sent).arg(count).arg(target.toString()));
    return count / seconds;
}

// wrk posting the relayer's binary-mode request (the same CloudEvents headers, a body of `bytes`) to `url` with
// `connections` connections on one thread for 3 s: requests per second; 0 when wrk is not installed.
double wrkRate(const QUrl &url, int bytes, int connections)
{
    if (QStandardPaths::findExecutable(QStringLiteral("wrk")).isEmpty())
        return 0;
    const QByteArray body = "{\"pad\":\"" + QByteArray(qMax(0, bytes - 10), 'x') + "\"}";
    QFile script(g_dir->filePath(QStringLiteral("wrk-post.lua")));
    if (!script.open(QIODevice::WriteOnly))
        die(QStringLiteral("cannot write %1").arg(script.fileName()));
    script.write("wrk.method = \"POST\"\nwrk.body = '" + body
        + "'\n"
          "wrk.headers[\"Content-Type\"] = \"application/json\"\n"
          "wrk.headers[\"ce-specversion\"] = \"1.0\"\n"
          "wrk.headers[\"ce-id\"] = \"01a24cf5-5dff-759b-8b3b-d4be6f5b5375\"\n"
          "wrk.headers[\"ce-source\"] = \"/bench\"\n"
          "wrk.headers[\"ce-type\"] = \"com.example.order.created\"\n"
          "wrk.headers[\"ce-time\"] = \"2026-12-06T20:04:38.527Z\"\n");
    script.close();
    QProcess wrk;
    wrk.start(QStringLiteral("wrk"),
        {QStringLiteral("-t1"), QStringLiteral("-c%1").arg(connections), QStringLiteral("-d3s"), QStringLiteral("-s"),
            script.fileName(), url.toString()});
    if (!wrk.waitForFinished(30000) || wrk.exitCode() != 0)
        die(QStringLiteral("wrk failed: %1").arg(QString::fromUtf8(wrk.readAllStandardError())));
    const QString out = QString::fromUtf8(wrk.readAllStandardOutput());
    static const QRegularExpression rate(QStringLiteral("Requests/sec:\\s+([0-9.]+)"));
    const QRegularExpressionMatch m = rate.match(out);
    if (!m.hasMatch() || out.contains(QLatin1String("Non-2xx")))
        die(QStringLiteral("wrk's answer is not all 2xx or has no rate: %1").arg(out));
    return m.captured(1).toDouble();
}

} // namespace

void scenarioStock(int runs, bool quick, const QStringList &wanted, const QList<int> &sizes)
{
    if (QStandardPaths::findExecutable(QStringLiteral("node")).isEmpty()
        || QStandardPaths::findExecutable(QStringLiteral("nginx")).isEmpty())
        die(QStringLiteral("the stock scenario needs node and nginx (packaging/install-deps.sh installs them)"));
    Receiver own;
    listenCountingOnly(own);
    std::unique_ptr<VethLink> veth = wanted.contains(QStringLiteral("veth")) ? std::make_unique<VethLink>() : nullptr;
    g_atDeath = [&veth] { veth.reset(); };
    if (veth && !veth->up) {
        std::fprintf(stderr, "bench: no veth pair (%s); only loopback is measured\n", qPrintable(veth->problem));
        veth.reset();
    }
    struct Link
    {
        QString name, host, ns;
    };
    QList<Link> links;
    if (wanted.contains(QStringLiteral("loopback")))
        links.append({QStringLiteral("loopback"), QStringLiteral("127.0.0.1"), QString()});
    if (veth)
        links.append({QStringLiteral("veth"), QStringLiteral("10.231.0.2"), veth->ns});
    for (const Link &link : links) {
        StockServer node(StockServer::Node, link.host, link.ns);
        StockServer nginx(StockServer::Nginx, link.host, link.ns);
        for (int bytes : sizes) {
            for (ContentMode mode : {ContentMode::Binary, ContentMode::Structured, ContentMode::Batch}) {
                // Enough events for a second or so of work at the rates seen.
                int count = bytes <= 100 ? (mode == ContentMode::Batch ? 50000 : 10000)
                    : bytes <= 8192      ? 5000
                    : bytes <= 20480     ? 3000
                                         : 1000;
                if (quick)
                    count /= 5;
                QList<double> toNode, toNginx, toOwn, bare, ratios, wrk, wrkRatios, ceilings, nodeToCeiling,
                    nginxToCeiling;
                for (int r = 0; r < runs; ++r) {
                    toNode << drainRate(node.url(), mode, count, bytes);
                    toNginx << drainRate(nginx.url(), mode, count, bytes);
                    // Batched, small events: beside the database's ceiling (the relayer's claim and write-back
                    // statements alone, same count), measured between the drains of the same run.
                    if (bytes == 100 && mode == ContentMode::Batch) {
                        ceilings << databaseCeiling(count, RelayerConfig().batchSize);
                        nodeToCeiling << toNode.last() / ceilings.last();
                        nginxToCeiling << toNginx.last() / ceilings.last();
                    }
                    if (link.ns.isEmpty())
                        toOwn << drainRate(own.url(), mode, count, bytes);
                    // One request per event, small events: against a bare QNAM loop to the same Node server.
                    if (bytes == 100 && mode != ContentMode::Batch) {
                        const double b = bareNetworkRate(node.url(), mode, count, 6).rate;
                        bare << b;
                        ratios << toNode.last() / b;
                    }
                    // One request per event to nginx, beside wrk with the relayer's 6 connections.
                    if (bytes == 100 && mode == ContentMode::Binary) {
                        if (const double w = wrkRate(nginx.url(), bytes, RelayerConfig().concurrency); w > 0) {
                            wrk << w;
                            wrkRatios << toNginx.last() / w;
                        }
                    }
                }
                QJsonObject o{{"scenario", "stock"}, {"link", link.name}, {"mode", contentModeName(mode)},
                    {"event_bytes", bytes}, {"events", count}, {"node_per_s", qRound(median(toNode))},
                    {"nginx_per_s", qRound(median(toNginx))}};
                if (!toOwn.isEmpty()) {
                    o.insert("own_receiver_per_s", qRound(median(toOwn)));
                    o.insert("node_to_own_ratio", median(toNode) / median(toOwn));
                }
                if (!bare.isEmpty()) {
                    o.insert("bare_qnam_to_node_per_s", qRound(median(bare)));
                    o.insert("node_to_bare_qnam_ratio", median(ratios));
                }
                if (!wrk.isEmpty()) {
                    o.insert("wrk_to_nginx_per_s", qRound(median(wrk)));
                    o.insert("nginx_to_wrk_ratio", median(wrkRatios));
                }
                if (!ceilings.isEmpty()) {
                    o.insert("ceiling_per_s", qRound(median(ceilings)));
                    o.insert("node_to_ceiling_ratio", median(nodeToCeiling));
                    o.insert("nginx_to_ceiling_ratio", median(nginxToCeiling));
                }
                report(o);
            }
        }
    }
    g_atDeath = nullptr;
}

} // namespace bench
