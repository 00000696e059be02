// SPDX-License-Identifier: MIT
// The AMQP 0-9-1 (RabbitMQ) transport plug-in: CloudEvents published through rabbitmq-c on a channel in
// confirm mode, persistent and `mandatory`, each event `sent` once the broker's publisher confirm (basic.ack)
// covers it; a message the broker returns as unroutable, or nacks, is a failure with the broker's reason.
// Binary mode carries each attribute as a `cloudEvents_<name>` header (the AMQP binding's application
// properties, as 0-9-1 headers of the same names) and datacontenttype as the content_type property; structured
// mode sends the whole event as JSON with content_type application/cloudevents+json. message_id is the event's
// id in both.
// Target: amqp://[user@]host[:5672]/[VHOST]?exchange=X&routing-key=K[&password-file=F][&heartbeat=S],
// amqps:// for TLS (5671). No exchange: the default one, where the routing key names a queue. Without a user:
// guest (RabbitMQ's default, loopback only); a user's password only from the file (the engine reads it;
// guest's is guest). Heartbeats every S seconds (default 30, 0: none): a broker silent for two of them (frozen,
// or its connection cut without a word) is left and tried again, as one that is down.
// Source (outboxctl receive --from): amqp://host/VHOST?queue=Q, or ?exchange=X&routing-key=K (a queue of its
// own, bound to the exchange, deleted when it ends).
//
// rabbitmq-c is not thread-safe and has no thread of its own: everything runs on the relayer's thread, the
// socket watched by a QSocketNotifier for the broker's confirms.

#include "brokeracks.h"
#include "brokerurl.h"
#include "stallguard.h"
#include "transportplugin.h"

#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QSocketNotifier>
#include <QTimer>
#include <QUrlQuery>

#include <amqp.h>
#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>

#include <map>
#include <memory>

namespace outbox {
namespace {

bool isTls(const QUrl &url)
{
    return url.scheme().compare(QLatin1String("amqps"), Qt::CaseInsensitive) == 0;
}

QString vhostOf(const QUrl &url)
{
    const QString path = url.path(QUrl::FullyDecoded);
    return path.size() > 1 ? path.mid(1) : QStringLiteral("/");
}

amqp_bytes_t bytes(const QByteArray &b)
{
    return amqp_bytes_t{size_t(b.size()), const_cast<char *>(b.constData())};
}

QString replyText(const amqp_rpc_reply_t &r)
{
    switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL:
        return {};
    case AMQP_RESPONSE_NONE:
        return QStringLiteral("no answer");
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
        return QString::fromUtf8(amqp_error_string2(r.library_error));
    case AMQP_RESPONSE_SERVER_EXCEPTION:
        if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD || r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
            const auto *m = static_cast<amqp_connection_close_t *>(r.reply.decoded);
            return QStringLiteral("%1 %2")
                .arg(m->reply_code)
                .arg(QString::fromUtf8(static_cast<const char *>(m->reply_text.bytes), int(m->reply_text.len)));
        }
        return QStringLiteral("server error (method %1)").arg(r.reply.id);
    }
    return QStringLiteral("unknown error");
}

// The user and password to log in with: guest/guest without a user in the URL (RabbitMQ's default user,
// loopback only); a user's password is the one the engine read from ?password-file=.
void credentials(const QUrl &url, const BrokerOptions &options, QByteArray *user, QByteArray *password)
{
    *user = url.userName().isEmpty() ? QByteArray("guest") : url.userName().toUtf8();
    *password = url.userName().isEmpty() ? QByteArray("guest") : options.password.toUtf8();
}

constexpr int DefaultHeartbeatS = 30;

// The heartbeat the URL asks for (?heartbeat=S), -1 when it is not a number of seconds from 0 to 3600.
int heartbeatOf(const QUrl &url)
{
    const QString value = QUrlQuery(url).queryItemValue(QStringLiteral("heartbeat"));
    if (value.isEmpty())
        return DefaultHeartbeatS;
    bool ok = false;
    const int seconds = value.toInt(&ok);
    return ok && seconds >= 0 && seconds <= 3600 ? seconds : -1;
}

// A connection logged in to the URL's vhost with channel 1 open; null and why when it cannot be had. Its
// handshake and each later RPC are bounded (a frozen broker accepts the TCP connection and says nothing): by
// the relayer's timeout, at most 5 s, since everything waits on the caller's thread.
amqp_connection_state_t openConnection(
    const QUrl &url, const BrokerOptions &options, const QByteArray &user, const QByteArray &password, QString *why)
{
    amqp_connection_state_t conn = amqp_new_connection();
    const int boundMs = qBound(500, options.timeoutMs, 5000);
    const timeval bound{boundMs / 1000, (boundMs % 1000) * 1000};
    amqp_set_handshake_timeout(conn, &bound);
    amqp_set_rpc_timeout(conn, &bound);
    amqp_socket_t *socket = nullptr;
    if (isTls(url)) {
        socket = amqp_ssl_socket_new(conn);
        if (socket && !options.caFile.isEmpty())
            amqp_ssl_socket_set_cacert(socket, options.caFile.toLocal8Bit().constData());
        if (socket && !options.clientCertificateFile.isEmpty())
            amqp_ssl_socket_set_key(socket, options.clientCertificateFile.toLocal8Bit().constData(),
                options.clientKeyFile.toLocal8Bit().constData());
    } else {
        socket = amqp_tcp_socket_new(conn);
    }
    timeval timeout{2, 0};
    const QByteArray host = url.host().toUtf8();
    const int status = socket
        ? amqp_socket_open_noblock(socket, host.constData(), url.port(isTls(url) ? 5671 : 5672), &timeout)
        : AMQP_STATUS_NO_MEMORY;
    if (status != AMQP_STATUS_OK) {
        *why = QStringLiteral("cannot connect: %1").arg(QString::fromUtf8(amqp_error_string2(status)));
        amqp_destroy_connection(conn);
        return nullptr;
    }
    const QByteArray vhost = vhostOf(url).toUtf8();
    amqp_rpc_reply_t r = amqp_login(conn, vhost.constData(), 0, 131072, qMax(0, heartbeatOf(url)),
        AMQP_SASL_METHOD_PLAIN, user.constData(), password.constData());
    if (r.reply_type == AMQP_RESPONSE_NORMAL) {
        amqp_channel_open(conn, 1);
        r = amqp_get_rpc_reply(conn);
    }
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        *why = QStringLiteral("refused: %1").arg(replyText(r));
        amqp_destroy_connection(conn);
        return nullptr;
    }
    return conn;
}

// Publishes on channel 1 in confirm mode; reconnects every 2 s while the broker is away.
class AmqpPublisher final : public QObject, public BrokerPublisher
{
public:
    AmqpPublisher(const QUrl &target, const BrokerOptions &options)
        : m_url(target), m_options(options), m_stall(qMax(1000, options.timeoutMs))
    {
        const QUrlQuery query(target);
        m_exchange = query.queryItemValue(QStringLiteral("exchange"), QUrl::FullyDecoded).toUtf8();
        m_routingKey = query.queryItemValue(QStringLiteral("routing-key"), QUrl::FullyDecoded).toUtf8();
        m_where = QStringLiteral("%1:%2").arg(target.host()).arg(target.port(isTls(target) ? 5671 : 5672));
        m_timer.setInterval(200);
        QObject::connect(&m_timer, &QTimer::timeout, this, [this] { tick(); });
        m_timer.start();
    }
    ~AmqpPublisher() override { disconnect(QString(), false); }

    // Reads the password file (if any) now, so a missing one is said at once; connects (a broker that is not
    // there yet is no error: it is tried every 2 s).
    bool open(QString *error)
    {
        Q_UNUSED(error);
        credentials(m_url, m_options, &m_user, &m_password);
        connectNow();
        return true;
    }

    void publish(const QList<BrokerMessage> &messages, const AckHandler &handler) override
    {
        m_waiting.hold(messages, std::make_shared<const AckHandler>(handler));
        if (m_conn)
            publishWaiting();
    }

    int inFlight() const override { return int(m_inFlight.size() + m_waiting.size()); }

private:
    using Handler = AckOutbox::Handler;
    struct Pending
    {
        qint64 sequence = 0;
        QString id;
        Handler handler;
        QElapsedTimer since;
        QString returned; // why the broker returned it (unroutable), before its confirm
    };

    void connectNow()
    {
        QString why;
        m_conn = openConnection(m_url, m_options, m_user, m_password, &why);
        if (!m_conn) {
            disconnect(why, true);
            return;
        }
        amqp_confirm_select(m_conn, 1);
        const amqp_rpc_reply_t r = amqp_get_rpc_reply(m_conn);
        if (r.reply_type != AMQP_RESPONSE_NORMAL) {
            disconnect(QStringLiteral("refused confirm mode: %1").arg(replyText(r)), true);
            return;
        }
        m_nextTag = 1;
        m_notifier = std::make_unique<QSocketNotifier>(amqp_get_sockfd(m_conn), QSocketNotifier::Read);
        QObject::connect(m_notifier.get(), &QSocketNotifier::activated, this, [this] { readFrames(); });
        m_lastError.clear();
        publishWaiting();
    }

    // Drops the connection; what was in flight is tried again (the broker may or may not have it: at least
    // once), `unavailable`: the broker is down for the relayer's breaker.
    void disconnect(const QString &why, bool retryLater)
    {
        m_notifier.reset();
        if (m_conn) {
            if (why.isEmpty()) {
                m_stall.arm(amqp_get_sockfd(m_conn));
                amqp_channel_close(m_conn, 1, AMQP_REPLY_SUCCESS);
                amqp_connection_close(m_conn, AMQP_REPLY_SUCCESS);
                m_stall.disarm();
            }
            amqp_destroy_connection(m_conn);
            m_conn = nullptr;
        }
        if (why.isEmpty())
            return;
        m_lastError = why;
        const std::map<uint64_t, Pending> all = std::exchange(m_inFlight, {});
        for (const auto &[tag, p] : all)
            deliver(p.handler,
                BrokerAck{p.sequence, BrokerAck::Kind::Retry,
                    QStringLiteral("AMQP broker %1: %2 before the confirm").arg(m_where, why), true});
        if (retryLater && !m_reconnectQueued) {
            m_reconnectQueued = true;
            QTimer::singleShot(2000, this, [this] {
                m_reconnectQueued = false;
                if (!m_conn)
                    connectNow();
            });
        }
    }

    void publishWaiting()
    {
        if (m_conn && !m_waiting.isEmpty())
            m_stall.arm(amqp_get_sockfd(m_conn));
        while (m_conn && !m_waiting.isEmpty()) {
            const HeldMessages::Held w = m_waiting.takeFirst();
            const BrokerMessage &m = w.message;
            QList<QByteArray> keep; // the header names and values, alive until the call returns
            QList<amqp_table_entry_t> entries;
            if (!m.structured) {
                for (const auto &[name, value] : m.attributes) {
                    keep << "cloudEvents_" + name.toUtf8() << value.toUtf8();
                    amqp_table_entry_t e;
                    e.key = bytes(keep.at(keep.size() - 2));
                    e.value.kind = AMQP_FIELD_KIND_UTF8;
                    e.value.value.bytes = bytes(keep.last());
                    entries.append(e);
                }
            }
            const QByteArray contentType = m.contentType.toUtf8(), id = m.id.toUtf8();
            amqp_basic_properties_t props{};
            props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_HEADERS_FLAG;
            props.delivery_mode = 2;
            props.message_id = bytes(id);
            props.headers.num_entries = int(entries.size());
            props.headers.entries = entries.data();
            if (!contentType.isEmpty()) {
                props._flags |= AMQP_BASIC_CONTENT_TYPE_FLAG;
                props.content_type = bytes(contentType);
            }
            const int status =
                amqp_basic_publish(m_conn, 1, bytes(m_exchange), bytes(m_routingKey), 1, 0, &props, bytes(m.body));
            if (status != AMQP_STATUS_OK) {
                m_waiting.putBack(w);
                disconnect(m_stall.disarm()
                        ? QStringLiteral("took no data for %1 ms while a message was written (frozen?)")
                              .arg(m_stall.timeoutMs())
                        : QStringLiteral("connection lost (%1)").arg(QString::fromUtf8(amqp_error_string2(status))),
                    true);
                return;
            }
            Pending p{m.sequence, m.id, w.handler, {}, {}};
            p.since.start();
            m_inFlight.emplace(m_nextTag++, p);
        }
        m_stall.disarm();
        readBuffered();
    }

    // rabbitmq-c may read the broker's frames into its own buffer while publishing; the socket then has
    // nothing to say, and they are read from here.
    void readBuffered()
    {
        if (m_conn && (amqp_frames_enqueued(m_conn) || amqp_data_in_buffer(m_conn)))
            QMetaObject::invokeMethod(
                this, [this] { readFrames(); }, Qt::QueuedConnection);
    }

    // The broker's frames: confirms (ack, nack), returns, and a closed channel or connection.
    void readFrames()
    {
        while (m_conn) {
            amqp_frame_t frame;
            timeval zero{0, 0};
            const int status = amqp_simple_wait_frame_noblock(m_conn, &frame, &zero);
            if (status == AMQP_STATUS_TIMEOUT)
                break;
            if (status != AMQP_STATUS_OK) {
                disconnect(
                    QStringLiteral("connection lost (%1)").arg(QString::fromUtf8(amqp_error_string2(status))), true);
                return;
            }
            if (frame.frame_type != AMQP_FRAME_METHOD)
                continue;
            switch (frame.payload.method.id) {
            case AMQP_BASIC_ACK_METHOD: {
                const auto *a = static_cast<amqp_basic_ack_t *>(frame.payload.method.decoded);
                confirmed(a->delivery_tag, a->multiple, QString());
                break;
            }
            case AMQP_BASIC_NACK_METHOD: {
                const auto *n = static_cast<amqp_basic_nack_t *>(frame.payload.method.decoded);
                confirmed(n->delivery_tag, n->multiple,
                    QStringLiteral("AMQP broker %1 did not take the message (basic.nack: a queue full with "
                                   "overflow reject-publish, or an internal error)")
                        .arg(m_where));
                break;
            }
            case AMQP_BASIC_RETURN_METHOD: {
                const auto *r = static_cast<amqp_basic_return_t *>(frame.payload.method.decoded);
                const QString why =
                    QStringLiteral("AMQP broker %1 returned the message as unroutable: %2 %3 "
                                   "(exchange '%4', routing key '%5')")
                        .arg(m_where)
                        .arg(r->reply_code)
                        .arg(QString::fromUtf8(static_cast<const char *>(r->reply_text.bytes), int(r->reply_text.len)),
                            QString::fromUtf8(static_cast<const char *>(r->exchange.bytes), int(r->exchange.len)),
                            QString::fromUtf8(
                                static_cast<const char *>(r->routing_key.bytes), int(r->routing_key.len)));
                amqp_message_t message;
                const amqp_rpc_reply_t read = amqp_read_message(m_conn, frame.channel, &message, 0);
                if (read.reply_type == AMQP_RESPONSE_NORMAL) {
                    const QString id = QString::fromUtf8(static_cast<const char *>(message.properties.message_id.bytes),
                        int(message.properties.message_id.len));
                    // The oldest in flight with that id (its confirm comes after the return).
                    for (auto &[tag, p] : m_inFlight) {
                        if (p.id == id && p.returned.isEmpty()) {
                            p.returned = why;
                            break;
                        }
                    }
                    amqp_destroy_message(&message);
                }
                break;
            }
            case AMQP_CHANNEL_CLOSE_METHOD:
            case AMQP_CONNECTION_CLOSE_METHOD: {
                const auto *c = static_cast<amqp_channel_close_t *>(frame.payload.method.decoded);
                const QString why =
                    QStringLiteral("%1 %2")
                        .arg(c->reply_code)
                        .arg(QString::fromUtf8(static_cast<const char *>(c->reply_text.bytes), int(c->reply_text.len)));
                // 404: the exchange does not exist; 403: not allowed. No retry makes these go through.
                if (c->reply_code == 404 || c->reply_code == 403) {
                    const std::map<uint64_t, Pending> all = std::exchange(m_inFlight, {});
                    for (const auto &[tag, p] : all)
                        deliver(p.handler,
                            BrokerAck{p.sequence, BrokerAck::Kind::Failed,
                                QStringLiteral("AMQP broker %1 refused the publish: %2").arg(m_where, why), false});
                }
                disconnect(QStringLiteral("closed by the broker: %1").arg(why), true);
                return;
            }
            default:
                break;
            }
        }
        if (m_conn)
            amqp_maybe_release_buffers(m_conn);
    }

    void confirmed(uint64_t tag, bool multiple, const QString &nack)
    {
        auto end = multiple ? m_inFlight.upper_bound(tag) : m_inFlight.find(tag);
        auto begin = multiple ? m_inFlight.begin() : end;
        if (!multiple) {
            if (end == m_inFlight.end())
                return;
            ++end;
        }
        for (auto it = begin; it != end; ++it) {
            const Pending &p = it->second;
            if (!p.returned.isEmpty())
                deliver(p.handler, BrokerAck{p.sequence, BrokerAck::Kind::Failed, p.returned, false});
            else if (!nack.isEmpty())
                deliver(p.handler, BrokerAck{p.sequence, BrokerAck::Kind::Retry, nack, true});
            else
                deliver(p.handler, BrokerAck{p.sequence, BrokerAck::Kind::Sent, {}, false});
        }
        m_inFlight.erase(begin, end);
    }

    void tick()
    {
        // Reading also sends a heartbeat when one is due, and notices a broker silent for two of them.
        readFrames();
        // Not connected within the timeout: the broker is unavailable (the relayer holds its events).
        if (!m_conn)
            m_waiting.expire(m_options.timeoutMs, m_acks,
                QStringLiteral("AMQP broker %1 unavailable: %2 (tried every 2 s)").arg(m_where, m_lastError));
        // No confirm within the timeout: the connection is no good (confirms come in order).
        if (!m_inFlight.empty() && m_inFlight.begin()->second.since.elapsed() >= m_options.timeoutMs)
            disconnect(QStringLiteral("no confirm within %1 ms").arg(m_options.timeoutMs), true);
    }

    void deliver(const Handler &handler, const BrokerAck &ack) { m_acks.add(handler, ack); }

    QUrl m_url;
    BrokerOptions m_options;
    StallGuard m_stall;
    QByteArray m_exchange, m_routingKey, m_user, m_password;
    QString m_where;
    QString m_lastError = QStringLiteral("not connected yet");
    amqp_connection_state_t m_conn = nullptr;
    std::unique_ptr<QSocketNotifier> m_notifier;
    uint64_t m_nextTag = 1;
    std::map<uint64_t, Pending> m_inFlight; // by delivery tag
    HeldMessages m_waiting; // not published yet (not connected)
    AckOutbox m_acks{this};
    bool m_reconnectQueued = false;
    QTimer m_timer;
};

// Consumes a queue (?queue=), or what an exchange routes with a key (?exchange=&routing-key=) into a queue of
// its own that the broker deletes when it goes; the cloudEvents_ headers read back as the attributes.
class AmqpSubscriber final : public QObject, public BrokerSubscriber
{
public:
    AmqpSubscriber(const QUrl &source, const BrokerOptions &options, MessageHandler onMessage)
        : m_url(source), m_options(options), m_onMessage(std::move(onMessage))
    {
        m_where = QStringLiteral("%1:%2").arg(source.host()).arg(source.port(isTls(source) ? 5671 : 5672));
    }
    ~AmqpSubscriber() override { drop(); }

    bool open(QString *error)
    {
        Q_UNUSED(error);
        credentials(m_url, m_options, &m_user, &m_password);
        connectNow();
        return true;
    }

    QString state() const override
    {
        return m_conn ? QStringLiteral("consuming %1 at %2").arg(m_what, m_where)
                      : QStringLiteral("AMQP broker %1: %2 (tried every 2 s)").arg(m_where, m_lastError);
    }

private:
    void connectNow()
    {
        QString why;
        m_conn = openConnection(m_url, m_options, m_user, m_password, &why);
        if (!m_conn) {
            retryLater(why);
            return;
        }
        const QUrlQuery query(m_url);
        QByteArray queue = query.queryItemValue(QStringLiteral("queue"), QUrl::FullyDecoded).toUtf8();
        amqp_rpc_reply_t r{};
        r.reply_type = AMQP_RESPONSE_NORMAL;
        if (queue.isEmpty()) {
            const QByteArray exchange = query.queryItemValue(QStringLiteral("exchange"), QUrl::FullyDecoded).toUtf8(),
                             key = query.queryItemValue(QStringLiteral("routing-key"), QUrl::FullyDecoded).toUtf8();
            const amqp_queue_declare_ok_t *ok =
                amqp_queue_declare(m_conn, 1, amqp_empty_bytes, 0, 0, 1, 1, amqp_empty_table);
            r = amqp_get_rpc_reply(m_conn);
            if (ok && r.reply_type == AMQP_RESPONSE_NORMAL) {
                queue = QByteArray(static_cast<const char *>(ok->queue.bytes), qsizetype(ok->queue.len));
                amqp_queue_bind(m_conn, 1, bytes(queue), bytes(exchange), bytes(key), amqp_empty_table);
                r = amqp_get_rpc_reply(m_conn);
            }
            m_what = QStringLiteral("exchange '%1' key '%2'").arg(QString::fromUtf8(exchange), QString::fromUtf8(key));
        } else {
            m_what = QStringLiteral("queue '%1'").arg(QString::fromUtf8(queue));
        }
        if (r.reply_type == AMQP_RESPONSE_NORMAL) {
            amqp_basic_consume(m_conn, 1, bytes(queue), amqp_empty_bytes, 0, 1, 0, amqp_empty_table);
            r = amqp_get_rpc_reply(m_conn);
        }
        if (r.reply_type != AMQP_RESPONSE_NORMAL) {
            drop();
            retryLater(QStringLiteral("cannot consume %1: %2").arg(m_what, replyText(r)));
            return;
        }
        m_notifier = std::make_unique<QSocketNotifier>(amqp_get_sockfd(m_conn), QSocketNotifier::Read);
        QObject::connect(m_notifier.get(), &QSocketNotifier::activated, this, [this] { readMessages(); });
        // Heartbeats are sent, and a silent broker noticed, only while reading: read at least every 200 ms.
        m_heartbeat = std::make_unique<QTimer>();
        QObject::connect(m_heartbeat.get(), &QTimer::timeout, this, [this] { readMessages(); });
        m_heartbeat->start(200);
    }

    void readMessages()
    {
        while (m_conn) {
            amqp_envelope_t envelope;
            timeval zero{0, 0};
            amqp_maybe_release_buffers(m_conn);
            const amqp_rpc_reply_t r = amqp_consume_message(m_conn, &envelope, &zero, 0);
            if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_TIMEOUT)
                return;
            if (r.reply_type != AMQP_RESPONSE_NORMAL) {
                drop();
                retryLater(QStringLiteral("connection lost (%1)").arg(replyText(r)));
                return;
            }
            deliver(envelope.message);
            amqp_destroy_envelope(&envelope);
        }
    }

    void deliver(const amqp_message_t &message)
    {
        BrokerDelivery d;
        d.topic = m_what;
        d.body = QByteArray(static_cast<const char *>(message.body.bytes), qsizetype(message.body.len));
        const amqp_basic_properties_t &p = message.properties;
        if (p._flags & AMQP_BASIC_CONTENT_TYPE_FLAG)
            d.contentType = QString::fromUtf8(static_cast<const char *>(p.content_type.bytes), int(p.content_type.len));
        if (p._flags & AMQP_BASIC_HEADERS_FLAG) {
            for (int i = 0; i < p.headers.num_entries; ++i) {
                const amqp_table_entry_t &e = p.headers.entries[i];
                const QString name = QString::fromUtf8(static_cast<const char *>(e.key.bytes), int(e.key.len));
                if (!name.startsWith(QLatin1String("cloudEvents_"), Qt::CaseInsensitive)
                    || (e.value.kind != AMQP_FIELD_KIND_UTF8 && e.value.kind != AMQP_FIELD_KIND_BYTES))
                    continue;
                d.properties.append({name.mid(12).toLower(),
                    QString::fromUtf8(
                        static_cast<const char *>(e.value.value.bytes.bytes), int(e.value.value.bytes.len))});
            }
        }
        m_onMessage(d);
    }

    void drop()
    {
        m_notifier.reset();
        m_heartbeat.reset();
        if (m_conn) {
            amqp_destroy_connection(m_conn);
            m_conn = nullptr;
        }
    }

    void retryLater(const QString &why)
    {
        m_lastError = why;
        QTimer::singleShot(2000, this, [this] {
            if (!m_conn)
                connectNow();
        });
    }

    QUrl m_url;
    BrokerOptions m_options;
    MessageHandler m_onMessage;
    QByteArray m_user, m_password;
    QString m_where, m_what, m_lastError;
    amqp_connection_state_t m_conn = nullptr;
    std::unique_ptr<QSocketNotifier> m_notifier;
    std::unique_ptr<QTimer> m_heartbeat;
};

class AmqpTransportPlugin final : public QObject, public TransportPlugin
{
    Q_OBJECT
    Q_PLUGIN_METADATA(IID OutboxTransportPlugin_iid FILE "amqp.json")
    Q_INTERFACES(outbox::TransportPlugin)

public:
    QString problem(const QUrl &target, const BrokerOptions &) const override
    {
        if (target.host().isEmpty())
            return QStringLiteral("an AMQP target needs a host: amqp://host:5672/VHOST?exchange=X&routing-key=K");
        QString problem = passwordInUrlProblem(target, QStringLiteral("an AMQP URL"));
        if (problem.isEmpty())
            problem = unknownQueryItemProblem(target, QStringLiteral("an AMQP target"),
                {QStringLiteral("exchange"), QStringLiteral("routing-key"), QStringLiteral("password-file"),
                    QStringLiteral("heartbeat")});
        if (!problem.isEmpty())
            return problem;
        const QUrlQuery query(target);
        if (heartbeatOf(target) < 0)
            return QStringLiteral("an AMQP target's ?heartbeat= is a number of seconds from 0 (none) to 3600");
        if (query.queryItemValue(QStringLiteral("exchange")).isEmpty()
            && query.queryItemValue(QStringLiteral("routing-key")).isEmpty())
            return QStringLiteral(
                "an AMQP target needs ?exchange= or ?routing-key= (the default exchange routes by queue name)");
        return {};
    }

    BrokerPublisher *create(const QUrl &target, const BrokerOptions &options, QString *error) override
    {
        auto publisher = std::make_unique<AmqpPublisher>(target, options);
        if (!publisher->open(error))
            return nullptr;
        return publisher.release();
    }

    BrokerSubscriber *subscribe(const QUrl &source, const BrokerOptions &options,
        const BrokerSubscriber::MessageHandler &onMessage, QString *error) override
    {
        const QUrlQuery query(source);
        if (source.host().isEmpty()
            || (query.queryItemValue(QStringLiteral("queue")).isEmpty()
                && query.queryItemValue(QStringLiteral("exchange")).isEmpty())) {
            *error = QStringLiteral("an AMQP source needs a host and ?queue=Q, or ?exchange=X&routing-key=K");
            return nullptr;
        }
        auto subscriber = std::make_unique<AmqpSubscriber>(source, options, onMessage);
        if (!subscriber->open(error))
            return nullptr;
        return subscriber.release();
    }
};

} // namespace
} // namespace outbox

#include "amqptransport.moc"
