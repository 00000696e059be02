// SPDX-License-Identifier: MIT
// outbox-bench-brokers: the relayer through a broker transport plug-in against a bare publish loop of the same
// client library with the same acknowledgement (QoS 1, every PUBACK awaited), in the same run, on a broker the
// benchmark starts on a free loopback port. A program beside the tests, not a test. One JSON object per event
// size on stdout, a table on stderr.
//
//   outbox-bench-brokers [--events 20000] [--runs 3] [--transport mqtt|nats|all]
//
// Events of 100 B and 8 KiB, in binary mode, from a SQLite outbox.
// MQTT: mosquitto (no persistence), libmosquitto, QoS 1 (the attributes as MQTT user properties).
// NATS: nats-server with JetStream, a file stream, cnats' asynchronous JetStream publish with Nats-Msg-Id (the
// attributes as ce- headers), every PubAck awaited.

#include "benchdrain.h"
#include "brokerservers.h"
#include "relayer.h"
#include "sendevent.h"
#include "storage.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSqlDatabase>
#include <QTemporaryDir>
#include <QThread>

#ifdef OUTBOX_HAVE_MQTT
#include <mosquitto.h>
#include <mqtt_protocol.h>
#endif
#ifdef OUTBOX_HAVE_NATS
#include <nats/nats.h>
#endif

#include <algorithm>
#include <atomic>
#include <cstdio>

using namespace outbox;

namespace {

[[noreturn]] void die(const QString &message)
{
    std::fprintf(stderr, "bench: %s\n", qPrintable(message));
    std::exit(1);
}

QByteArray payload(int bytes)
{
    return "{\"pad\":\"" + QByteArray(qMax(0, bytes - 10), 'x') + "\"}";
}

#ifdef OUTBOX_HAVE_MQTT
// The bare loop: N messages with the properties a binary-mode event carries, QoS 1, all handed to libmosquitto
// at once (as the relayer's plug-in does with a batch), timed until the last PUBACK.
double bareMqttRate(quint16 port, int count, int bytes)
{
    struct Acks
    {
        std::atomic<int> received{0};
        std::atomic<bool> connected{false};
    } acks;
    mosquitto *m = mosquitto_new(nullptr, true, &acks);
    mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    mosquitto_max_inflight_messages_set(m, 0);
    mosquitto_connect_v5_callback_set(m, [](mosquitto *, void *a, int rc, int, const mosquitto_property *) {
        static_cast<Acks *>(a)->connected = rc == 0;
    });
    mosquitto_publish_v5_callback_set(
        m, [](mosquitto *, void *a, int, int, const mosquitto_property *) { ++static_cast<Acks *>(a)->received; });
    if (mosquitto_connect(m, "127.0.0.1", port, 30) != MOSQ_ERR_SUCCESS || mosquitto_loop_start(m) != MOSQ_ERR_SUCCESS)
        die(QStringLiteral("the bare client cannot connect"));
    while (!acks.connected)
        QThread::msleep(1);
    const QByteArray body = payload(bytes);
    QElapsedTimer clock;
    clock.start();
    for (int i = 0; i < count; ++i) {
        mosquitto_property *props = nullptr;
        const QByteArray id = QByteArray::number(i);
        mosquitto_property_add_string_pair(&props, MQTT_PROP_USER_PROPERTY, "specversion", "1.0");
        mosquitto_property_add_string_pair(&props, MQTT_PROP_USER_PROPERTY, "id", id.constData());
        mosquitto_property_add_string_pair(&props, MQTT_PROP_USER_PROPERTY, "source", "/bench");
        mosquitto_property_add_string_pair(&props, MQTT_PROP_USER_PROPERTY, "type", "com.example.order.created");
        mosquitto_property_add_string_pair(&props, MQTT_PROP_USER_PROPERTY, "time", "2026-12-06T07:00:00.000Z");
        mosquitto_property_add_string(&props, MQTT_PROP_CONTENT_TYPE, "application/json");
        if (mosquitto_publish_v5(m, nullptr, "bench/bare", int(body.size()), body.constData(), 1, false, props)
            != MOSQ_ERR_SUCCESS)
            die(QStringLiteral("bare publish failed"));
        mosquitto_property_free_all(&props);
    }
    while (acks.received < count)
        QThread::usleep(200);
    const double seconds = clock.nsecsElapsed() / 1e9;
    mosquitto_disconnect(m);
    mosquitto_loop_stop(m, false);
    mosquitto_destroy(m);
    return count / seconds;
}
#endif

#ifdef OUTBOX_HAVE_NATS
// The bare loop: N JetStream messages with the headers a binary-mode event carries and a Nats-Msg-Id each,
// published asynchronously, timed until the last PubAck.
double bareNatsRate(quint16 port, int count, int bytes, int run)
{
    natsConnection *nc = nullptr;
    jsCtx *js = nullptr;
    const QByteArray url = QStringLiteral("nats://127.0.0.1:%1").arg(port).toUtf8();
    jsOptions opts;
    jsOptions_Init(&opts);
    opts.PublishAsync.MaxPending = 1 << 20;
    if (natsConnection_ConnectTo(&nc, url.constData()) != NATS_OK
        || natsConnection_JetStream(&js, nc, &opts) != NATS_OK)
        die(QStringLiteral("the bare client cannot connect"));
    const QByteArray body = payload(bytes);
    QElapsedTimer clock;
    clock.start();
    for (int i = 0; i < count; ++i) {
        const QByteArray id =
            "bare-" + QByteArray::number(run) + '-' + QByteArray::number(bytes) + '-' + QByteArray::number(i);
        natsMsg *msg = nullptr;
        natsMsg_Create(&msg, "bench.bare", nullptr, body.constData(), int(body.size()));
        natsMsgHeader_Set(msg, "ce-specversion", "1.0");
        natsMsgHeader_Set(msg, "ce-id", id.constData());
        natsMsgHeader_Set(msg, "ce-source", "/bench");
        natsMsgHeader_Set(msg, "ce-type", "com.example.order.created");
        natsMsgHeader_Set(msg, "ce-time", "2026-12-06T07:00:00.000Z");
        natsMsgHeader_Set(msg, "ce-datacontenttype", "application/json");
        jsPubOptions pub;
        jsPubOptions_Init(&pub);
        pub.MsgId = id.constData();
        if (js_PublishMsgAsync(js, &msg, &pub) != NATS_OK)
            die(QStringLiteral("bare publish failed"));
    }
    jsPubOptions done;
    jsPubOptions_Init(&done);
    done.MaxWait = 60000;
    if (js_PublishAsyncComplete(js, &done) != NATS_OK)
        die(QStringLiteral("the bare loop's PubAcks did not all come"));
    const double seconds = clock.nsecsElapsed() / 1e9;
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    return count / seconds;
}
#endif

// The relayer: a SQLite outbox of N pending events, drained to the broker through its plug-in.
double relayerRate(const QString &dir, const QUrl &target, int count, int bytes, int run)
{
    const ConnectionSpec spec =
        ConnectionSpec::sqlite(dir + QStringLiteral("/outbox-%1-%2-%3.db").arg(target.scheme()).arg(bytes).arg(run));
    {
        auto storage = Storage::open(spec);
        if (!storage.isOk())
            die(storage.error().message());
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("fill"));
        db.setDatabaseName(spec.database);
        if (!db.open() || !db.transaction())
            die(QStringLiteral("cannot fill the outbox"));
        const QByteArray body = payload(bytes);
        for (int i = 0; i < count; ++i) {
            if (!sendEventTransactional(db, QStringLiteral("com.example.order.created"), QStringLiteral("/bench"), body)
                     .isOk())
                die(QStringLiteral("enqueue failed"));
        }
        db.commit();
        db.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("fill"));
    RelayerConfig config;
    config.targetUrl = target;
    RelayOnceResult result;
    const double seconds = timedDrain(spec, config, &result);
    if (result.error)
        die(result.error.message());
    auto storage = Storage::open(spec);
    const qint64 sent = storage.isOk() ? (*storage)->stats()->sent : -1;
    if (sent != count)
        die(QStringLiteral("the relayer sent %1 of %2 events").arg(sent).arg(count));
    return count / seconds;
}

void report(const char *scenario, const char *bare, int bytes, int count, int runs, const QList<double> &bareRates,
    const QList<double> &relayed)
{
    const double b = median(bareRates), r = median(relayed);
    const QJsonObject o{{"scenario", scenario}, {"event_bytes", bytes}, {"events", count}, {"runs", runs},
        {"bare_publish_per_s", qRound(b)}, {"relayer_per_s", qRound(r)}, {"ratio", qRound(r / b * 100) / 100.0}};
    std::printf("%s\n", QJsonDocument(o).toJson(QJsonDocument::Compact).constData());
    std::fflush(stdout);
    std::fprintf(
        stderr, "%s %5d B: bare %s loop %8.0f/s, relayer %8.0f/s, %.2fx\n", scenario, bytes, bare, b, r, r / b);
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addHelpOption();
    parser.addOption({"events", "Events per run.", "n", "20000"});
    parser.addOption({"runs", "Runs per figure (the median is reported).", "n", "3"});
    parser.addOption({"transport", "mqtt, nats or all.", "name", "all"});
    parser.process(app);
    const int count = parser.value("events").toInt();
    const int runs = qMax(1, parser.value("runs").toInt());
    const QString transport = parser.value("transport");
    const auto wanted = [&](const char *name) {
        return transport == QLatin1String("all") || transport == QLatin1String(name);
    };
    QTemporaryDir dir;
#ifdef OUTBOX_HAVE_MQTT
    if (wanted("mqtt")) {
        const quint16 port = freePort();
        Mosquitto broker(dir.path(), port, false);
        if (!broker.start())
            die(QStringLiteral("mosquitto did not start (packaging/install-deps.sh installs it): %1")
                    .arg(broker.log()));
        mosquitto_lib_init();
        const QUrl target(QStringLiteral("mqtt://127.0.0.1:%1/bench/relayed").arg(port));
        for (int bytes : {100, 8192}) {
            QList<double> bare, relayed;
            for (int run = 0; run < runs; ++run) { // alternating, so both see the same machine
                bare << bareMqttRate(port, count, bytes);
                relayed << relayerRate(dir.path(), target, count, bytes, run);
            }
            report("mqtt", "libmosquitto", bytes, count, runs, bare, relayed);
        }
    }
#endif
#ifdef OUTBOX_HAVE_NATS
    if (wanted("nats")) {
        const quint16 port = freePort();
        QDir().mkpath(dir.path() + QStringLiteral("/nats"));
        NatsServer server(dir.path() + QStringLiteral("/nats"), port);
        if (!server.start())
            die(QStringLiteral("nats-server did not start (packaging/install-deps.sh installs it): %1")
                    .arg(server.log()));
        nats_Open(-1);
        {
            // One file stream for both loops (what a production stream is); emptied between runs.
            natsConnection *nc = nullptr;
            jsCtx *js = nullptr;
            natsConnection_ConnectTo(&nc, QStringLiteral("nats://127.0.0.1:%1").arg(port).toUtf8().constData());
            natsConnection_JetStream(&js, nc, nullptr);
            jsStreamConfig cfg;
            jsStreamConfig_Init(&cfg);
            cfg.Name = "BENCH";
            const char *subjects[] = {"bench.>"};
            cfg.Subjects = subjects;
            cfg.SubjectsLen = 1;
            cfg.Storage = js_FileStorage;
            jsStreamInfo *si = nullptr;
            if (js_AddStream(&si, js, &cfg, nullptr, nullptr) != NATS_OK)
                die(QStringLiteral("cannot make the benchmark's stream"));
            jsStreamInfo_Destroy(si);
            const QUrl target(QStringLiteral("nats://127.0.0.1:%1/bench.relayed").arg(port));
            for (int bytes : {100, 8192}) {
                QList<double> bare, relayed;
                for (int run = 0; run < runs; ++run) {
                    bare << bareNatsRate(port, count, bytes, run);
                    js_PurgeStream(js, "BENCH", nullptr, nullptr);
                    relayed << relayerRate(dir.path(), target, count, bytes, run);
                    js_PurgeStream(js, "BENCH", nullptr, nullptr);
                }
                report("nats", "cnats JetStream", bytes, count, runs, bare, relayed);
            }
            jsCtx_Destroy(js);
            natsConnection_Destroy(nc);
        }
    }
#endif
    return 0;
}
