// SPDX-License-Identifier: MIT
// outbox-bench-brokers: the relayer through a broker transport plug-in against a bare publish loop of the same
// client library with the same acknowledgement (QoS 1, every PUBACK awaited), in the same run, on a broker the
// benchmark starts on a free loopback port. A program beside the tests, not a test. One JSON object per event
// size on stdout, a table on stderr.
//
//   outbox-bench-brokers [--events 20000] [--runs 3] [--transport mqtt|nats|kafka|amqp|all] [--outbox URL]
//
// Events of 100 B and 8 KiB, in binary mode, from a SQLite outbox; with --outbox postgresql://... (or
// mysql://...), from a new database on that server for each run (the server's user must be allowed to create
// databases: tests/pg-server.sh start STATE gives one).
// MQTT: mosquitto (no persistence), libmosquitto, QoS 1 (the attributes as MQTT user properties).
// NATS: nats-server with JetStream, a file stream, cnats' asynchronous JetStream publish with Nats-Msg-Id (the
// attributes as ce- headers), every PubAck awaited.
// Kafka: librdkafka's mock cluster in this process (3 brokers; Debian has no Kafka broker), librdkafka's
// producer with acks=all and idempotence (the attributes as ce_ headers), every delivery report awaited.
// AMQP: a RabbitMQ node, a durable queue, rabbitmq-c publishing persistent mandatory messages on a channel in
// confirm mode (the attributes as cloudEvents_ headers), every confirm awaited.

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
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QThread>

#ifdef OUTBOX_HAVE_MQTT
#include <mosquitto.h>
#include <mqtt_protocol.h>
#endif
#ifdef OUTBOX_HAVE_NATS
#include <nats/nats.h>
#endif
#ifdef OUTBOX_HAVE_AMQP
#include <amqp.h>
#include <amqp_tcp_socket.h>
#endif
#ifdef OUTBOX_HAVE_KAFKA
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#endif

#include <algorithm>
#include <atomic>
#include <optional>
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

#ifdef OUTBOX_HAVE_KAFKA
// The bare loop: N records with the headers a binary-mode event carries, produced with the relayer's settings
// (acks=all, idempotence, linger 2 ms), timed until the last delivery report.
double bareKafkaRate(const QByteArray &bootstraps, int count, int bytes)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char why[256];
    for (const auto &[k, v] :
        {std::pair<const char *, const char *>{"acks", "all"}, {"enable.idempotence", "true"}, {"linger.ms", "2"}})
        rd_kafka_conf_set(conf, k, v, why, sizeof why);
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps.constData(), why, sizeof why);
    static std::atomic<int> delivered;
    delivered = 0;
    rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t *, const rd_kafka_message_t *m, void *) {
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
            ++delivered;
        else
            die(QStringLiteral("bare delivery failed: %1").arg(QString::fromUtf8(rd_kafka_err2str(m->err))));
    });
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
    const QByteArray body = payload(bytes);
    // Connected, the topic's metadata and the producer id in hand before the clock starts.
    rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("bare"), RD_KAFKA_V_VALUE(const_cast<char *>("{}"), size_t(2)),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    while (delivered < 1)
        rd_kafka_poll(rk, 10);
    delivered = 0;
    QElapsedTimer clock;
    clock.start();
    for (int i = 0; i < count; ++i) {
        const QByteArray id = QByteArray::number(i);
        rd_kafka_headers_t *h = rd_kafka_headers_new(6);
        rd_kafka_header_add(h, "ce_specversion", -1, "1.0", -1);
        rd_kafka_header_add(h, "ce_id", -1, id.constData(), id.size());
        rd_kafka_header_add(h, "ce_source", -1, "/bench", -1);
        rd_kafka_header_add(h, "ce_type", -1, "com.example.order.created", -1);
        rd_kafka_header_add(h, "ce_time", -1, "2026-12-06T07:00:00.000Z", -1);
        rd_kafka_header_add(h, "content-type", -1, "application/json", -1);
        while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("bare"), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                   RD_KAFKA_V_VALUE(const_cast<char *>(body.constData()), size_t(body.size())), RD_KAFKA_V_HEADERS(h),
                   RD_KAFKA_V_END)
            == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 10);
        rd_kafka_poll(rk, 0);
    }
    while (delivered < count)
        rd_kafka_poll(rk, 10);
    const double seconds = clock.nsecsElapsed() / 1e9;
    rd_kafka_destroy(rk);
    return count / seconds;
}
#endif

#ifdef OUTBOX_HAVE_AMQP
amqp_connection_state_t amqpConnect(quint16 port)
{
    amqp_connection_state_t conn = amqp_new_connection();
    if (amqp_socket_open(amqp_tcp_socket_new(conn), "127.0.0.1", port) != AMQP_STATUS_OK
        || amqp_login(conn, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, "guest", "guest").reply_type
            != AMQP_RESPONSE_NORMAL)
        die(QStringLiteral("cannot connect to RabbitMQ"));
    amqp_channel_open(conn, 1);
    amqp_get_rpc_reply(conn);
    return conn;
}

void amqpQueue(quint16 port, const char *queue, bool purge)
{
    amqp_connection_state_t conn = amqpConnect(port);
    amqp_queue_declare(conn, 1, amqp_cstring_bytes(queue), 0, 1, 0, 0, amqp_empty_table);
    amqp_get_rpc_reply(conn);
    if (purge) {
        amqp_queue_purge(conn, 1, amqp_cstring_bytes(queue));
        amqp_get_rpc_reply(conn);
    }
    amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(conn);
}

// The bare loop: N persistent, mandatory messages with a binary-mode event's headers on a confirm-mode channel,
// all published, then timed until the confirms cover the last.
double bareAmqpRate(quint16 port, int count, int bytes)
{
    amqp_connection_state_t conn = amqpConnect(port);
    amqp_confirm_select(conn, 1);
    amqp_get_rpc_reply(conn);
    const QByteArray body = payload(bytes);
    QElapsedTimer clock;
    clock.start();
    uint64_t confirmed = 0;
    const auto readConfirms = [&](bool wait) {
        for (;;) {
            amqp_frame_t frame;
            timeval zero{0, 0};
            const int status = amqp_simple_wait_frame_noblock(conn, &frame, wait ? nullptr : &zero);
            if (status == AMQP_STATUS_TIMEOUT)
                return;
            if (status != AMQP_STATUS_OK)
                die(QStringLiteral("the bare loop lost its connection"));
            if (frame.frame_type == AMQP_FRAME_METHOD && frame.payload.method.id == AMQP_BASIC_ACK_METHOD) {
                confirmed = static_cast<amqp_basic_ack_t *>(frame.payload.method.decoded)->delivery_tag;
                if (wait)
                    return;
            }
        }
    };
    for (int i = 0; i < count; ++i) {
        const QByteArray id = QByteArray::number(i);
        amqp_table_entry_t e[5];
        const char *names[] = {
            "cloudEvents_specversion", "cloudEvents_id", "cloudEvents_source", "cloudEvents_type", "cloudEvents_time"};
        const QByteArray values[] = {"1.0", id, "/bench", "com.example.order.created", "2026-12-06T07:00:00.000Z"};
        for (int k = 0; k < 5; ++k) {
            e[k].key = amqp_cstring_bytes(names[k]);
            e[k].value.kind = AMQP_FIELD_KIND_UTF8;
            e[k].value.value.bytes = amqp_bytes_t{size_t(values[k].size()), const_cast<char *>(values[k].constData())};
        }
        amqp_basic_properties_t props{};
        props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_HEADERS_FLAG
            | AMQP_BASIC_CONTENT_TYPE_FLAG;
        props.delivery_mode = 2;
        props.message_id = amqp_bytes_t{size_t(id.size()), const_cast<char *>(id.constData())};
        props.content_type = amqp_cstring_bytes("application/json");
        props.headers = amqp_table_t{5, e};
        if (amqp_basic_publish(conn, 1, amqp_empty_bytes, amqp_cstring_bytes("bare"), 1, 0, &props,
                amqp_bytes_t{size_t(body.size()), const_cast<char *>(body.constData())})
            != AMQP_STATUS_OK)
            die(QStringLiteral("bare publish failed"));
        readConfirms(false);
    }
    while (confirmed < uint64_t(count))
        readConfirms(true);
    const double seconds = clock.nsecsElapsed() / 1e9;
    amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(conn);
    return count / seconds;
}
#endif

std::optional<ConnectionSpec> g_server; // --outbox: a database server, a new database on it for each run

// A Qt SQL connection to the spec's database.
QSqlDatabase openSql(const ConnectionSpec &spec, const QString &name)
{
    QSqlDatabase db = QSqlDatabase::addDatabase(spec.driver, name);
    db.setDatabaseName(spec.database);
    db.setHostName(spec.host);
    db.setPort(spec.port);
    db.setUserName(spec.user);
    db.setPassword(spec.password);
    if (!db.open())
        die(QStringLiteral("cannot open %1: %2").arg(spec.displayUrl(), db.lastError().text()));
    return db;
}

// The outbox of one run: a new SQLite file in dir, or a new database on the --outbox server.
ConnectionSpec outboxFor(const QString &dir, const QString &name)
{
    if (!g_server)
        return ConnectionSpec::sqlite(dir + QStringLiteral("/%1.db").arg(name));
    ConnectionSpec spec = *g_server;
    const QString database = name.toLower().replace(QLatin1Char('-'), QLatin1Char('_'));
    {
        QSqlDatabase admin = openSql(spec, QStringLiteral("admin"));
        QSqlQuery q(admin);
        q.exec(QStringLiteral("DROP DATABASE IF EXISTS %1").arg(database));
        if (!q.exec(QStringLiteral("CREATE DATABASE %1").arg(database)))
            die(QStringLiteral("cannot create the database %1: %2").arg(database, q.lastError().text()));
    }
    QSqlDatabase::removeDatabase(QStringLiteral("admin"));
    spec.database = database;
    return spec;
}

// The relayer: an outbox of N pending events, drained to the broker through its plug-in. Like the bare
// loops, timed once connected: the relayer first drains one event (connecting, the broker's metadata), then
// the N events are committed and drained again.
double relayerRate(const QString &dir, const QUrl &target, int count, int bytes, int run)
{
    const ConnectionSpec spec =
        outboxFor(dir, QStringLiteral("outbox-%1-%2-%3").arg(target.scheme()).arg(bytes).arg(run));
    auto storage = Storage::open(spec);
    if (!storage.isOk())
        die(storage.error().message());
    const QByteArray body = payload(bytes);
    const auto fill = [&](int n) {
        QSqlDatabase db = openSql(spec, QStringLiteral("fill"));
        if (!db.transaction())
            die(QStringLiteral("cannot fill the outbox"));
        for (int i = 0; i < n; ++i) {
            if (!sendEventTransactional(db, QStringLiteral("com.example.order.created"), QStringLiteral("/bench"), body)
                     .isOk())
                die(QStringLiteral("enqueue failed"));
        }
        db.commit();
        db.close();
        db = QSqlDatabase();
        QSqlDatabase::removeDatabase(QStringLiteral("fill"));
    };
    RelayerConfig config;
    config.targetUrl = target;
    if (qEnvironmentVariableIsSet("BENCH_BATCH"))
        config.batchSize = qEnvironmentVariableIntValue("BENCH_BATCH");
    Relayer relayer(spec, config);
    fill(1);
    RelayOnceResult result;
    timedDrain(relayer, &result);
    fill(count);
    const double seconds = timedDrain(relayer, &result);
    if (result.error)
        die(result.error.message());
    const qint64 sent = (*storage)->stats()->sent;
    if (sent != count + 1)
        die(QStringLiteral("the relayer sent %1 of %2 events").arg(sent).arg(count + 1));
    return count / seconds;
}

void report(const char *scenario, const char *bare, int bytes, int count, int runs, const QList<double> &bareRates,
    const QList<double> &relayed)
{
    const double b = median(bareRates), r = median(relayed);
    const char *outbox = !g_server ? "sqlite" : g_server->driver == QLatin1String("QPSQL") ? "postgresql" : "mariadb";
    const QJsonObject o{{"scenario", scenario}, {"outbox", outbox}, {"event_bytes", bytes}, {"events", count},
        {"runs", runs}, {"bare_publish_per_s", qRound(b)}, {"relayer_per_s", qRound(r)},
        {"ratio", qRound(r / b * 100) / 100.0}};
    std::printf("%s\n", QJsonDocument(o).toJson(QJsonDocument::Compact).constData());
    std::fflush(stdout);
    std::fprintf(stderr, "%s %5d B: bare %s loop %8.0f/s, relayer (%s outbox) %8.0f/s, %.2fx\n", scenario, bytes, bare,
        b, outbox, r, r / b);
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addHelpOption();
    parser.addOption({"events", "Events per run.", "n", "20000"});
    parser.addOption({"runs", "Runs per figure (the median is reported).", "n", "3"});
    parser.addOption({"transport", "mqtt, nats, kafka, amqp or all.", "name", "all"});
    parser.addOption({"outbox",
        "A PostgreSQL or MariaDB server URL: the relayer's outbox is a new database there for each run (default: a "
        "SQLite file).",
        "url"});
    parser.process(app);
    if (parser.isSet("outbox")) {
        const auto server = ConnectionSpec::fromUrl(parser.value("outbox"));
        if (!server.isOk() || server->isFile())
            die(QStringLiteral("--outbox takes a postgresql:// or mysql:// server URL"));
        g_server = *server;
    }
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
#ifdef OUTBOX_HAVE_AMQP
    if (wanted("amqp")) {
        const quint16 port = freePort();
        QDir().mkpath(dir.path() + QStringLiteral("/rabbitmq"));
        RabbitMq broker(dir.path() + QStringLiteral("/rabbitmq"), port);
        if (!broker.start())
            die(QStringLiteral("rabbitmq-server did not start (packaging/install-deps.sh installs it): %1")
                    .arg(broker.log()));
        const QUrl target(QStringLiteral("amqp://127.0.0.1:%1/?routing-key=relayed").arg(port));
        for (int bytes : {100, 8192}) {
            QList<double> bare, relayed;
            for (int run = 0; run < runs; ++run) {
                amqpQueue(port, "bare", true);
                bare << bareAmqpRate(port, count, bytes);
                amqpQueue(port, "relayed", true);
                relayed << relayerRate(dir.path(), target, count, bytes, run);
            }
            report("amqp", "rabbitmq-c", bytes, count, runs, bare, relayed);
        }
        amqpQueue(port, "bare", true);
        amqpQueue(port, "relayed", true);
    }
#endif
#ifdef OUTBOX_HAVE_KAFKA
    if (wanted("kafka")) {
        char why[256];
        rd_kafka_t *host = rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), why, sizeof why);
        rd_kafka_mock_cluster_t *cluster = rd_kafka_mock_cluster_new(host, 3);
        rd_kafka_mock_topic_create(cluster, "bare", 3, 3);
        rd_kafka_mock_topic_create(cluster, "relayed", 3, 3);
        const QByteArray bootstraps = rd_kafka_mock_cluster_bootstraps(cluster);
        const QStringList all = QString::fromUtf8(bootstraps).split(QLatin1Char(','));
        const QUrl target(
            QStringLiteral("kafka://%1/relayed?bootstrap=%2").arg(all.first(), all.mid(1).join(QLatin1Char(','))));
        for (int bytes : {100, 8192}) {
            QList<double> bare, relayed;
            for (int run = 0; run < runs; ++run) {
                bare << bareKafkaRate(bootstraps, count, bytes);
                relayed << relayerRate(dir.path(), target, count, bytes, run);
            }
            report("kafka", "librdkafka", bytes, count, runs, bare, relayed);
        }
        rd_kafka_mock_cluster_destroy(cluster);
        rd_kafka_destroy(host);
    }
#endif
    return 0;
}
