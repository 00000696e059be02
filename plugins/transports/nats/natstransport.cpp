// SPDX-License-Identifier: MIT
// The NATS JetStream transport plug-in: CloudEvents published to a JetStream stream through cnats, each event
// `sent` once the stream's PubAck says it stored it. Every message carries Nats-Msg-Id = the event's id, so the
// stream's duplicate window drops a re-send (after a lost connection or a relayer's crash) instead of storing it
// twice. Binary mode carries each attribute, datacontenttype included, as a `ce-` header percent-encoded as the
// CloudEvents NATS binding says; structured mode sends the whole event as JSON with the header
// Content-Type: application/cloudevents+json.
// Target: nats://[user@]host[:4222]/SUBJECT[?password-file=F], nats://host/SUBJECT?token-file=F for a server
// that takes a token, nats://UPUBLICKEY@host/SUBJECT?nkey-seed-file=F for an NKey user, or
// nats://host/SUBJECT?creds-file=F for a user of a server in operator mode (a user JWT and its seed, as `nsc`
// writes them); the engine reads the files, the seed signs the server's nonce here; tls:// for TLS. A stream
// whose subjects take SUBJECT must exist (the relayer does not make one): without it the server has no
// responder and the event fails with that reason.

#include "brokeracks.h"
#include "brokerurl.h"
#include "transportplugin.h"

#include <QElapsedTimer>
#include <QHash>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMutex>
#include <QObject>
#include <QRegularExpression>
#include <QTimer>
#include <QUrlQuery>

#include <nats/nats.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>

namespace outbox {
namespace {

QString subjectOf(const QUrl &url)
{
    return url.path(QUrl::FullyDecoded).mid(1);
}

bool isTls(const QUrl &url)
{
    return url.scheme().compare(QLatin1String("tls"), Qt::CaseInsensitive) == 0;
}

QString text(natsStatus s)
{
    return QString::fromUtf8(natsStatus_GetText(s));
}

// The server's own words for the last error of this thread when there are some, else the status's text.
QString lastError(natsStatus s)
{
    const char *last = nats_GetLastError(nullptr);
    return last && *last ? QString::fromUtf8(last) : text(s);
}

// The CloudEvents NATS binding's header value: UTF-8, with space, '"', '%' and every byte outside printable
// ASCII percent-encoded (upper-case hex).
QByteArray headerValue(const QString &value)
{
    static const char hex[] = "0123456789ABCDEF";
    const QByteArray utf8 = value.toUtf8();
    QByteArray out;
    out.reserve(utf8.size());
    for (const char c : utf8) {
        const auto b = static_cast<unsigned char>(c);
        if (b > 0x20 && b < 0x7f && b != '"' && b != '%') {
            out += c;
        } else {
            out += '%';
            out += hex[b >> 4];
            out += hex[b & 15];
        }
    }
    return out;
}

// An object that cnats' threads report to, by a number: they find it, under one lock, only while it exists (a
// callback may still come from a connection being closed, after its object is gone).
class Registered : public QObject
{
public:
    Registered()
    {
        QMutexLocker lock(&mutex());
        m_key = ++next();
        all().insert(m_key, this);
    }
    ~Registered() override { unregister(); }

    void *closure() const { return reinterpret_cast<void *>(m_key); }

    // Runs `f` with the object whose closure this is, while no other thread can remove it; nothing when gone.
    template<typename T, typename F>
    static void with(void *closure, F f)
    {
        QMutexLocker lock(&mutex());
        if (Registered *r = all().value(reinterpret_cast<quintptr>(closure)))
            f(static_cast<T *>(r));
    }

protected:
    // Derived classes call this first in their destructors (after it, no callback reaches them).
    void unregister()
    {
        QMutexLocker lock(&mutex());
        all().remove(m_key);
    }

private:
    // Never destroyed: cnats' threads may still report (a connection closing) while the process exits, after
    // static objects are destroyed; a static hash was read after it was freed there (AddressSanitizer, in
    // `outboxctl receive --from nats://… --count N` ending).
    static QMutex &mutex()
    {
        static QMutex *m = new QMutex;
        return *m;
    }
    static QHash<quintptr, Registered *> &all()
    {
        static auto *a = new QHash<quintptr, Registered *>;
        return *a;
    }
    static quintptr &next()
    {
        static quintptr n = 0;
        return n;
    }
    quintptr m_key = 0;
};

// One connection to the server, which cnats keeps reconnecting (every 2 s, for ever; also when the first attempt
// finds no server). What its threads report is handed to this object's thread.
class NatsClient : public Registered
{
public:
    explicit NatsClient(const QUrl &url) : m_url(url)
    {
        m_where = QStringLiteral("%1:%2").arg(url.host()).arg(url.port(4222));
        m_lastError = QStringLiteral("no connection yet (tried every 2 s)");
    }
    ~NatsClient() override { shutdown(); }

    bool open(const BrokerOptions &options, const QString &role, QString *error)
    {
        natsOptions *opts = nullptr;
        natsStatus s = natsOptions_Create(&opts);
        const QByteArray url = QStringLiteral("%1://%2")
                                   .arg(isTls(m_url) ? QStringLiteral("tls") : QStringLiteral("nats"), m_where)
                                   .toUtf8();
        const QByteArray name = QStringLiteral("outbox-%1-%2").arg(role, options.clientName.left(40)).toUtf8();
        if (s == NATS_OK)
            s = natsOptions_SetURL(opts, url.constData());
        if (s == NATS_OK)
            s = natsOptions_SetName(opts, name.constData());
        if (s == NATS_OK)
            s = natsOptions_SetMaxReconnect(opts, -1);
        if (s == NATS_OK)
            s = natsOptions_SetReconnectWait(opts, 2000);
        if (s == NATS_OK)
            s = natsOptions_SetTimeout(opts, 2000);
        m_nkeySeed = options.nkeySeed.toUtf8();
        m_userJwt = options.userJwt.toUtf8();
        if (s == NATS_OK && !m_userJwt.isEmpty())
            s = natsOptions_SetUserCredentialsCallbacks(
                opts, &NatsClient::userJwt, closure(), &NatsClient::signNonce, closure());
        else if (s == NATS_OK && !m_nkeySeed.isEmpty())
            s = natsOptions_SetNKey(opts, m_url.userName().toUtf8().constData(), &NatsClient::signNonce, closure());
        else if (s == NATS_OK && !m_url.userName().isEmpty())
            s = natsOptions_SetUserInfo(opts, m_url.userName().toUtf8().constData(),
                options.password.isEmpty() ? nullptr : options.password.toUtf8().constData());
        if (s == NATS_OK && !options.token.isEmpty())
            s = natsOptions_SetToken(opts, options.token.toUtf8().constData());
        if (s == NATS_OK && isTls(m_url)) {
            s = natsOptions_SetSecure(opts, true);
            if (s == NATS_OK && !options.caFile.isEmpty())
                s = natsOptions_LoadCATrustedCertificates(opts, options.caFile.toLocal8Bit().constData());
            if (s == NATS_OK && !options.clientCertificateFile.isEmpty())
                s = natsOptions_LoadCertificatesChain(opts, options.clientCertificateFile.toLocal8Bit().constData(),
                    options.clientKeyFile.toLocal8Bit().constData());
        }
        if (s == NATS_OK)
            s = natsOptions_SetDisconnectedCB(opts, &NatsClient::onDisconnected, closure());
        if (s == NATS_OK)
            s = natsOptions_SetReconnectedCB(opts, &NatsClient::onConnected, closure());
        if (s == NATS_OK)
            s = natsOptions_SetRetryOnFailedConnect(opts, true, &NatsClient::onConnected, closure());
        if (s != NATS_OK) {
            *error = QStringLiteral("NATS settings for %1: %2").arg(m_where, lastError(s));
            natsOptions_Destroy(opts);
            return false;
        }
        s = natsConnection_Connect(&m_nc, opts);
        natsOptions_Destroy(opts);
        if (s == NATS_OK) {
            m_connected = true;
        } else if (s != NATS_NOT_YET_CONNECTED) {
            *error = QStringLiteral("cannot connect to NATS server %1: %2").arg(m_where, lastError(s));
            return false;
        }
        return made(error);
    }

protected:
    virtual bool made(QString *) { return true; }
    // Why there is no connection: what was seen last, and what the server said of the last try (an
    // authorization refused, say) when it said something.
    QString whyNotConnected() const
    {
        const char *said = nullptr;
        if (m_nc && natsConnection_GetLastError(m_nc, &said) != NATS_OK && said && *said)
            return QStringLiteral("%1; last try: %2").arg(m_lastError, QString::fromUtf8(said));
        return m_lastError;
    }
    virtual void connected() { }
    virtual void disconnected() { }

    void shutdown()
    {
        unregister();
        if (m_nc) {
            natsConnection_Close(m_nc);
            natsConnection_Destroy(m_nc);
            m_nc = nullptr;
        }
    }

    QUrl m_url;
    QString m_where;
    natsConnection *m_nc = nullptr;
    bool m_connected = false;
    QString m_lastError;
    QByteArray m_nkeySeed; // ?nkey-seed-file='s content or ?creds-file='s seed, for signNonce
    QByteArray m_userJwt; // ?creds-file='s user JWT, for userJwt

private:
    // The server's nonce signed with the NKey seed (on cnats' thread, while connecting).
    static natsStatus signNonce(char **, unsigned char **signature, int *length, const char *nonce, void *closure)
    {
        natsStatus s = NATS_ERR;
        with<NatsClient>(
            closure, [&](NatsClient *c) { s = nats_Sign(c->m_nkeySeed.constData(), nonce, signature, length); });
        return s;
    }

    // The user JWT of the credentials file, a copy cnats frees (on cnats' thread, while connecting).
    static natsStatus userJwt(char **jwt, char **, void *closure)
    {
        natsStatus s = NATS_ERR;
        with<NatsClient>(closure, [&](NatsClient *c) {
            *jwt = strdup(c->m_userJwt.constData());
            s = *jwt ? NATS_OK : NATS_NO_MEMORY;
        });
        return s;
    }

    static void onConnected(natsConnection *, void *closure)
    {
        with<NatsClient>(closure, [](NatsClient *c) {
            QMetaObject::invokeMethod(
                c,
                [c] {
                    c->m_connected = true;
                    c->connected();
                },
                Qt::QueuedConnection);
        });
    }
    static void onDisconnected(natsConnection *, void *closure)
    {
        with<NatsClient>(closure, [](NatsClient *c) {
            QMetaObject::invokeMethod(
                c,
                [c] {
                    c->m_connected = false;
                    c->m_lastError = QStringLiteral("connection lost (reconnecting every 2 s)");
                    c->disconnected();
                },
                Qt::QueuedConnection);
        });
    }
};

// Publishes to JetStream asynchronously; an event is sent on its PubAck.
class NatsPublisher final : public NatsClient, public BrokerPublisher
{
public:
    NatsPublisher(const QUrl &target, const BrokerOptions &options)
        : NatsClient(target), m_subject(subjectOf(target).toUtf8()), m_timeoutMs(options.timeoutMs)
    {
        m_timer.setInterval(200);
        QObject::connect(&m_timer, &QTimer::timeout, this, [this] { expire(); });
        m_timer.start();
    }
    ~NatsPublisher() override
    {
        unregister();
        if (m_js)
            jsCtx_Destroy(m_js);
        shutdown();
    }

    void publish(const QList<BrokerMessage> &messages, const AckHandler &handler) override
    {
        const auto shared = std::make_shared<const AckHandler>(handler);
        if (!m_connected) {
            m_waiting.hold(messages, shared); // until the client connects (it tries every 2 s), or their timeout
            return;
        }
        publishNow(messages, shared);
    }

    int inFlight() const override
    {
        QMutexLocker lock(&m_mutex);
        return int(m_inFlight.size() + m_waiting.size());
    }

private:
    using Handler = AckOutbox::Handler;
    struct Pending
    {
        qint64 sequence = 0;
        Handler handler;
        QElapsedTimer since;
    };
    struct Arrived
    {
        Pending pending;
        BrokerAck ack;
        bool noResponders = false; // to be checked: see takeArrived()
    };

    bool made(QString *error) override
    {
        jsOptions jsOpts;
        jsOptions_Init(&jsOpts);
        jsOpts.PublishAsync.MaxPending = 1 << 20; // the relayer bounds what it hands over
        jsOpts.PublishAsync.AckHandler = &NatsPublisher::onAck;
        jsOpts.PublishAsync.AckHandlerClosure = closure();
        const natsStatus s = natsConnection_JetStream(&m_js, m_nc, &jsOpts);
        if (s != NATS_OK) {
            *error = QStringLiteral("cannot use JetStream at %1: %2").arg(m_where, lastError(s));
            return false;
        }
        return true;
    }

    void publishNow(const QList<BrokerMessage> &messages, const Handler &handler)
    {
        for (const BrokerMessage &m : messages) {
            natsMsg *msg = nullptr;
            natsStatus s = natsMsg_Create(&msg, m_subject.constData(), nullptr, m.body.constData(), int(m.body.size()));
            if (s == NATS_OK && m.structured) {
                s = natsMsgHeader_Set(msg, "Content-Type", m.contentType.toUtf8().constData());
            } else if (s == NATS_OK) {
                for (const auto &[name, value] : m.attributes) {
                    if (s == NATS_OK)
                        s = natsMsgHeader_Set(msg, ("ce-" + name.toUtf8()).constData(), headerValue(value).constData());
                }
                if (s == NATS_OK && !m.contentType.isEmpty())
                    s = natsMsgHeader_Set(msg, "ce-datacontenttype", headerValue(m.contentType).constData());
            }
            if (s != NATS_OK) {
                natsMsg_Destroy(msg);
                deliver(handler,
                    BrokerAck{m.sequence, BrokerAck::Kind::Failed,
                        QStringLiteral("cannot make a NATS message: %1").arg(lastError(s)), false});
                continue;
            }
            const QByteArray id = m.id.toUtf8();
            jsPubOptions pubOpts;
            jsPubOptions_Init(&pubOpts);
            pubOpts.MsgId = id.constData();
            pubOpts.MaxWait = m_timeoutMs;
            {
                // Before publishing: the PubAck may come before js_PublishMsgAsync returns.
                QMutexLocker lock(&m_mutex);
                Pending p{m.sequence, handler, {}};
                p.since.start();
                m_inFlight.insert(msg, p);
            }
            natsMsg *published = msg;
            s = js_PublishMsgAsync(m_js, &published, &pubOpts);
            if (s == NATS_OK)
                continue; // cnats owns the message now
            {
                QMutexLocker lock(&m_mutex);
                m_inFlight.remove(msg);
            }
            natsMsg_Destroy(published);
            if (s == NATS_MAX_PAYLOAD) {
                deliver(handler,
                    BrokerAck{m.sequence, BrokerAck::Kind::Failed,
                        QStringLiteral(
                            "NATS server %1 refused the message: %2 bytes with headers, over its max_payload of %3")
                            .arg(m_where)
                            .arg(m.body.size())
                            .arg(natsConnection_GetMaxPayload(m_nc)),
                        false});
            } else {
                deliver(handler,
                    BrokerAck{m.sequence, BrokerAck::Kind::Retry,
                        QStringLiteral("NATS server %1 unavailable: %2").arg(m_where, lastError(s)), true});
            }
        }
    }

    // On cnats' thread: the PubAck (or why there is none) of one message, taken out of the ones in flight and
    // handed over with the others that came meanwhile. The message stays cnats' until this callback destroys
    // it, so its address names one message in flight.
    static void onAck(jsCtx *, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
    {
        with<NatsPublisher>(closure, [&](NatsPublisher *p) {
            BrokerAck ack;
            bool noResponders = false;
            if (pa) {
                ack.kind = BrokerAck::Kind::Sent; // also a duplicate: the stream has the message
            } else if (pae) {
                const QString why = pae->ErrText && *pae->ErrText ? QString::fromUtf8(pae->ErrText) : text(pae->Err);
                if (pae->Err == NATS_NO_RESPONDERS) {
                    noResponders = true;
                } else if (pae->Err == NATS_TIMEOUT) {
                    ack.kind = BrokerAck::Kind::Retry;
                    ack.error = QStringLiteral("no PubAck from NATS server %1 within %2 ms")
                                    .arg(p->m_where)
                                    .arg(p->m_timeoutMs);
                } else if (pae->ErrCode == JSStreamStoreFailedErr || pae->ErrCode == JSInsufficientResourcesErr) {
                    // The stream is full (discard-new policy) or out of storage: the events wait, nothing is lost.
                    ack.kind = BrokerAck::Kind::Retry;
                    ack.brokerUnavailable = true;
                    ack.error = QStringLiteral("JetStream at NATS server %1 did not store the message: %2")
                                    .arg(p->m_where, why);
                } else if (pae->ErrCode != 0) {
                    ack.kind = BrokerAck::Kind::Failed;
                    ack.error = QStringLiteral("JetStream at NATS server %1 refused the message: %2 (error %3)")
                                    .arg(p->m_where, why)
                                    .arg(int(pae->ErrCode));
                } else {
                    ack.kind = BrokerAck::Kind::Retry;
                    ack.brokerUnavailable = true;
                    ack.error = QStringLiteral("NATS server %1: %2 before the PubAck").arg(p->m_where, why);
                }
            }
            QMutexLocker lock(&p->m_mutex);
            const auto it = p->m_inFlight.find(msg);
            if (it == p->m_inFlight.end())
                return; // given up already (the connection was lost)
            ack.sequence = it->sequence;
            p->m_arrived.append(Arrived{*it, ack, noResponders});
            p->m_inFlight.erase(it);
            if (!std::exchange(p->m_arrivedPosted, true))
                QMetaObject::invokeMethod(
                    p, [p] { p->takeArrived(); }, Qt::QueuedConnection);
        });
        natsMsg_Destroy(msg); // the acknowledgement's receiver owns the message (cnats' rule)
    }

    void takeArrived()
    {
        QList<Arrived> arrived;
        {
            QMutexLocker lock(&m_mutex);
            arrived = std::exchange(m_arrived, {});
            m_arrivedPosted = false;
        }
        // No responders: no stream took the message. That is the operator's to fix when JetStream says no stream
        // takes the subject; but a server that is stopping or starting has JetStream without its streams for a
        // moment while clients are still (or already) connected, and then the events wait.
        std::optional<BrokerAck> noStream;
        for (const Arrived &a : arrived) {
            if (!a.noResponders) {
                deliver(a.pending.handler, a.ack);
                continue;
            }
            if (!noStream)
                noStream = noRespondersAck();
            BrokerAck ack = *noStream;
            ack.sequence = a.ack.sequence;
            deliver(a.pending.handler, ack);
        }
    }

    // Asks JetStream which streams take the subject: none is a failure; no answer (JetStream not ready, the
    // server going away) or a stream there after all, a retry without charge.
    BrokerAck noRespondersAck()
    {
        const QString subject = QString::fromUtf8(m_subject);
        const QByteArray ask =
            QJsonDocument(QJsonObject{{QStringLiteral("subject"), subject}}).toJson(QJsonDocument::Compact);
        natsMsg *reply = nullptr;
        const natsStatus s = m_nc ? natsConnection_Request(&reply, m_nc, "$JS.API.STREAM.NAMES", ask.constData(),
                                 int(ask.size()), qMin(m_timeoutMs, 2000))
                                  : NATS_CONNECTION_CLOSED;
        QJsonObject answer;
        if (s == NATS_OK)
            answer = QJsonDocument::fromJson(QByteArray(natsMsg_GetData(reply), natsMsg_GetDataLength(reply))).object();
        natsMsg_Destroy(reply);
        if (s == NATS_OK && !answer.contains(QLatin1String("error")) && answer.contains(QLatin1String("total"))) {
            if (answer.value(QLatin1String("total")).toInt() == 0)
                return BrokerAck{0, BrokerAck::Kind::Failed,
                    QStringLiteral("no JetStream stream at NATS server %1 takes subject '%2' (no responders)")
                        .arg(m_where, subject),
                    false};
            return BrokerAck{0, BrokerAck::Kind::Retry,
                QStringLiteral(
                    "JetStream at NATS server %1 had no stream for subject '%2' for a moment (no responders)")
                    .arg(m_where, subject),
                true};
        }
        const QString why = s != NATS_OK
            ? lastError(s)
            : answer.value(QLatin1String("error")).toObject().value(QLatin1String("description")).toString();
        return BrokerAck{0, BrokerAck::Kind::Retry,
            QStringLiteral("JetStream at NATS server %1 is not ready (no responders for subject '%2'; %3)")
                .arg(m_where, subject, why),
            true};
    }

    void deliver(const Handler &handler, const BrokerAck &ack) { m_acks.add(handler, ack); }

    void connected() override
    {
        for (const HeldMessages::Held &h : m_waiting.takeAll())
            publishNow({h.message}, h.handler);
    }

    void disconnected() override
    {
        // Published and not acknowledged: maybe stored, maybe not. Tried again; a re-send within the stream's
        // duplicate window is dropped by the server (the same Nats-Msg-Id), and a late PubAck is ignored.
        QHash<natsMsg *, Pending> all;
        {
            QMutexLocker lock(&m_mutex);
            all = std::exchange(m_inFlight, {});
        }
        for (const Pending &p : all)
            deliver(p.handler,
                BrokerAck{p.sequence, BrokerAck::Kind::Retry,
                    QStringLiteral("NATS server %1: connection lost before the PubAck").arg(m_where), true});
    }

    void expire()
    {
        // cnats reports a PubAck that does not come within MaxWait; should it not (a message it buffered across
        // a reconnection), the event is tried again a little later all the same: nothing stays in flight.
        QList<Pending> late;
        {
            QMutexLocker lock(&m_mutex);
            for (auto it = m_inFlight.begin(); it != m_inFlight.end();) {
                if (it->since.elapsed() >= m_timeoutMs + 2000) {
                    late.append(*it);
                    it = m_inFlight.erase(it);
                } else {
                    ++it;
                }
            }
        }
        for (const Pending &p : late)
            deliver(p.handler,
                BrokerAck{p.sequence, BrokerAck::Kind::Retry,
                    QStringLiteral("no PubAck from NATS server %1 within %2 ms").arg(m_where).arg(m_timeoutMs), false});
        // Not connected within the timeout: the server is unavailable (the relayer holds its events).
        m_waiting.expire(
            m_timeoutMs, m_acks, QStringLiteral("NATS server %1 unavailable: %2").arg(m_where, whyNotConnected()));
    }

    QByteArray m_subject;
    int m_timeoutMs;
    jsCtx *m_js = nullptr;
    mutable QMutex m_mutex; // m_inFlight, m_arrived, m_arrivedPosted: shared with cnats' thread
    QHash<natsMsg *, Pending> m_inFlight; // by the message cnats hands back with its PubAck
    QList<Arrived> m_arrived;
    bool m_arrivedPosted = false;
    HeldMessages m_waiting; // published while not connected
    AckOutbox m_acks{this};
    QTimer m_timer;
};

// A core NATS subscription (wildcards '*' and '>' allowed): sees what is published to matching subjects, JetStream
// messages included, while it runs. The ce- headers become the attributes again (percent-decoded).
class NatsSubscriber final : public NatsClient, public BrokerSubscriber
{
public:
    NatsSubscriber(const QUrl &source, MessageHandler onMessage)
        : NatsClient(source), m_subject(subjectOf(source).toUtf8()), m_onMessage(std::move(onMessage))
    { }
    ~NatsSubscriber() override
    {
        unregister();
        if (m_sub)
            natsSubscription_Destroy(m_sub);
        shutdown();
    }

    QString state() const override
    {
        return m_connected ? QStringLiteral("subscribed to %1 at %2").arg(QString::fromUtf8(m_subject), m_where)
                           : QStringLiteral("NATS server %1: %2").arg(m_where, whyNotConnected());
    }

private:
    // The subscription is kept by the connection across reconnections (also before the first one is made).
    bool made(QString *error) override
    {
        const natsStatus s =
            natsConnection_Subscribe(&m_sub, m_nc, m_subject.constData(), &NatsSubscriber::onMessage, closure());
        if (s != NATS_OK) {
            *error = QStringLiteral("cannot subscribe to %1 at %2: %3")
                         .arg(QString::fromUtf8(m_subject), m_where, lastError(s));
            return false;
        }
        return true;
    }

    static void onMessage(natsConnection *, natsSubscription *, natsMsg *msg, void *closure)
    {
        BrokerDelivery d;
        d.topic = QString::fromUtf8(natsMsg_GetSubject(msg));
        d.body = QByteArray(natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
        const char **keys = nullptr;
        int count = 0;
        QString contentType, dataContentType;
        if (natsMsgHeader_Keys(msg, &keys, &count) == NATS_OK) {
            for (int i = 0; i < count; ++i) {
                const QByteArray key(keys[i]);
                const char *value = nullptr;
                if (natsMsgHeader_Get(msg, keys[i], &value) != NATS_OK || !value)
                    continue;
                if (key.compare("content-type", Qt::CaseInsensitive) == 0) {
                    contentType = QString::fromUtf8(value);
                } else if (key.size() > 3 && key.first(3).compare("ce-", Qt::CaseInsensitive) == 0) {
                    const QString name = QString::fromLatin1(key.mid(3)).toLower();
                    const QString decoded = QString::fromUtf8(QByteArray::fromPercentEncoding(value));
                    if (name == QLatin1String("datacontenttype"))
                        dataContentType = decoded;
                    else
                        d.properties.append({name, decoded});
                }
            }
            free(static_cast<void *>(keys));
        }
        // Structured when the content type is a CloudEvents one (the binding), else binary.
        d.contentType = contentType.startsWith(QLatin1String("application/cloudevents"), Qt::CaseInsensitive)
            ? contentType
            : dataContentType;
        natsMsg_Destroy(msg);
        with<NatsSubscriber>(closure, [&](NatsSubscriber *s) {
            QMetaObject::invokeMethod(
                s, [s, d] { s->m_onMessage(d); }, Qt::QueuedConnection);
        });
    }

    QByteArray m_subject;
    MessageHandler m_onMessage;
    natsSubscription *m_sub = nullptr;
};

class NatsTransportPlugin final : public QObject, public TransportPlugin
{
    Q_OBJECT
    Q_PLUGIN_METADATA(IID OutboxTransportPlugin_iid FILE "nats.json")
    Q_INTERFACES(outbox::TransportPlugin)

public:
    NatsTransportPlugin() { nats_Open(-1); }

    QString problem(const QUrl &target, const BrokerOptions &) const override
    {
        if (target.host().isEmpty())
            return QStringLiteral("a NATS target needs a host: nats://host:4222/SUBJECT");
        const QString subject = subjectOf(target);
        if (subject.isEmpty())
            return QStringLiteral("a NATS target needs a subject: nats://%1/SUBJECT").arg(target.host());
        if (subject.contains(QLatin1Char('*')) || subject.contains(QLatin1Char('>')))
            return QStringLiteral("the NATS subject '%1' holds a wildcard ('*' or '>'): publish to one subject")
                .arg(subject);
        for (const QString &token : subject.split(QLatin1Char('.'))) {
            if (token.isEmpty() || token.contains(QLatin1Char(' ')) || token.contains(QLatin1Char('\t')))
                return QStringLiteral("'%1' is not a NATS subject (dot-separated words without spaces)").arg(subject);
        }
        QString problem = passwordInUrlProblem(target, QStringLiteral("a NATS URL"));
        if (!problem.isEmpty())
            return problem;
        if (target.hasFragment())
            return QStringLiteral("a NATS target takes no fragment");
        problem = unknownQueryItemProblem(target, QStringLiteral("a NATS target"),
            {QStringLiteral("password-file"), QStringLiteral("token-file"), QStringLiteral("nkey-seed-file"),
                QStringLiteral("creds-file")});
        const QUrlQuery query(target);
        if (problem.isEmpty() && query.hasQueryItem(QStringLiteral("creds-file"))
            && (query.hasQueryItem(QStringLiteral("nkey-seed-file")) || query.hasQueryItem(QStringLiteral("token-file"))
                || query.hasQueryItem(QStringLiteral("password-file"))))
            return QStringLiteral("a credentials file is the whole credential: drop ?password-file=, ?token-file= and "
                                  "?nkey-seed-file= beside ?creds-file=");
        if (problem.isEmpty() && query.hasQueryItem(QStringLiteral("nkey-seed-file"))
            && !QRegularExpression(QStringLiteral("^U[A-Z2-7]{55}$")).match(target.userName()).hasMatch())
            return QStringLiteral("with ?nkey-seed-file= the URL's user is the NKey's public key (U and 55 more "
                                  "letters and digits), not '%1'")
                .arg(target.userName());
        return problem;
    }

    BrokerPublisher *create(const QUrl &target, const BrokerOptions &options, QString *error) override
    {
        auto publisher = std::make_unique<NatsPublisher>(target, options);
        if (!publisher->open(options, QStringLiteral("pub"), error))
            return nullptr;
        return publisher.release();
    }

    BrokerSubscriber *subscribe(const QUrl &source, const BrokerOptions &options,
        const BrokerSubscriber::MessageHandler &onMessage, QString *error) override
    {
        if (source.host().isEmpty() || subjectOf(source).isEmpty()) {
            *error = QStringLiteral("a NATS source needs a host and a subject: nats://host:4222/SUBJECT");
            return nullptr;
        }
        auto subscriber = std::make_unique<NatsSubscriber>(source, onMessage);
        if (!subscriber->open(options, QStringLiteral("sub"), error))
            return nullptr;
        return subscriber.release();
    }
};

} // namespace
} // namespace outbox

#include "natstransport.moc"
