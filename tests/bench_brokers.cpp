// SPDX-License-Identifier: MIT
// outbox-bench-brokers: the relayer through a broker transport plug-in against a bare publish loop of the same
// client library with the same acknowledgement (QoS 1, every PUBACK awaited), in the same run, on a broker the
// benchmark starts on a free loopback port. A program beside the tests, not a test. One JSON object per event
// size on stdout, a table on stderr.
//
//   outbox-bench-brokers [--events 20000] [--runs 3]
//
// MQTT: mosquitto (no persistence), libmosquitto; events of 100 B and 8 KiB, in binary mode (the attributes
// as MQTT user properties), from a SQLite outbox.

#include "benchdrain.h"
#include "brokerservers.h"
#include "relayer.h"
#include "sendevent.h"
#include "storage.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSqlDatabase>
#include <QTemporaryDir>
#include <QThread>

#include <mosquitto.h>
#include <mqtt_protocol.h>

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

// The bare loop: N messages with the properties a binary-mode event carries, QoS 1, all handed to libmosquitto
// at once (as the relayer's plug-in does with a batch), timed until the last PUBACK.
double barePublishRate(quint16 port, int count, int bytes)
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

// The relayer: a SQLite outbox of N pending events, drained to the broker through the MQTT plug-in.
double relayerRate(const QString &dir, quint16 port, int count, int bytes, int run)
{
    const ConnectionSpec spec = ConnectionSpec::sqlite(dir + QStringLiteral("/outbox-%1-%2.db").arg(bytes).arg(run));
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
    config.targetUrl = QUrl(QStringLiteral("mqtt://127.0.0.1:%1/bench/relayed").arg(port));
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

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addHelpOption();
    parser.addOption({"events", "Events per run.", "n", "20000"});
    parser.addOption({"runs", "Runs per figure (the median is reported).", "n", "3"});
    parser.process(app);
    const int count = parser.value("events").toInt();
    const int runs = qMax(1, parser.value("runs").toInt());

    QTemporaryDir dir;
    const quint16 port = freePort();
    Mosquitto broker(dir.path(), port, false);
    if (!broker.start())
        die(QStringLiteral("mosquitto did not start (packaging/install-deps.sh installs it): %1").arg(broker.log()));
    mosquitto_lib_init();
    for (int bytes : {100, 8192}) {
        QList<double> bare, relayed;
        for (int run = 0; run < runs; ++run) { // alternating, so both see the same machine
            bare << barePublishRate(port, count, bytes);
            relayed << relayerRate(dir.path(), port, count, bytes, run);
        }
        const double b = median(bare), r = median(relayed);
        const QJsonObject o{{"scenario", "mqtt"}, {"event_bytes", bytes}, {"events", count}, {"runs", runs},
            {"bare_publish_per_s", qRound(b)}, {"relayer_per_s", qRound(r)}, {"ratio", qRound(r / b * 100) / 100.0}};
        std::printf("%s\n", QJsonDocument(o).toJson(QJsonDocument::Compact).constData());
        std::fprintf(
            stderr, "mqtt %5d B: bare libmosquitto loop %8.0f/s, relayer %8.0f/s, %.2fx\n", bytes, b, r, r / b);
    }
    return 0;
}
