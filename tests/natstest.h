// SPDX-License-Identifier: MIT
// What the NATS tests share: a nats-server of their own per test function, a relayer configuration for one of its
// subjects, and the stream's administration and contents through the NATS C client.
#pragma once

#include "brokerservers.h"
#include "brokertest.h"

#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QThread>

#include <nats/nats.h>

#include <functional>
#include <memory>

namespace {

// One message as the stream stores it.
struct Stored
{
    QString subject;
    QHash<QByteArray, QByteArray> headers; // by lower-case name
    QByteArray body;
};

// The stream's administration and contents through the NATS C client (what an operator's tool would do).
class JetStreamAdmin
{
public:
    // `credentials`, when given, sets the client's credentials on its options (a token, a key, a creds file).
    // Connecting is tried for up to 5 s (a server just started under a sanitizer can be slow to take a client).
    explicit JetStreamAdmin(quint16 port, const std::function<void(natsOptions *)> &credentials = {})
    {
        const QByteArray url = QStringLiteral("nats://127.0.0.1:%1").arg(port).toUtf8();
        natsOptions *opts = nullptr;
        natsOptions_Create(&opts);
        natsOptions_SetURL(opts, url.constData());
        if (credentials)
            credentials(opts);
        QElapsedTimer clock;
        clock.start();
        natsStatus s = NATS_ERR;
        while ((s = natsConnection_Connect(&m_nc, opts)) != NATS_OK && clock.elapsed() < 5000)
            QThread::msleep(100);
        if (s == NATS_OK)
            s = natsConnection_JetStream(&m_js, m_nc, nullptr);
        if (s != NATS_OK)
            noteError(QStringLiteral("connect"), s);
        natsOptions_Destroy(opts);
    }
    ~JetStreamAdmin()
    {
        if (m_js)
            jsCtx_Destroy(m_js);
        if (m_nc)
            natsConnection_Destroy(m_nc);
    }
    // What failed last, for a check's message.
    QString lastError() const { return m_error; }
    // A file stream taking `subjects`; maxMsgs > 0: at most that many, new ones refused when full. Tried for
    // up to 5 s, JetStream being possibly not ready yet on a server just started.
    bool addStream(const char *name, const char *subjects, int64_t maxMsgs = -1)
    {
        if (!m_js)
            return false;
        jsStreamConfig cfg;
        jsStreamConfig_Init(&cfg);
        cfg.Name = name;
        const char *list[] = {subjects};
        cfg.Subjects = list;
        cfg.SubjectsLen = 1;
        cfg.Storage = js_FileStorage;
        cfg.MaxMsgs = maxMsgs;
        cfg.Discard = js_DiscardNew;
        QElapsedTimer clock;
        clock.start();
        for (;;) {
            jsStreamInfo *si = nullptr;
            jsErrCode err = jsErrCode(0);
            const natsStatus s = js_AddStream(&si, m_js, &cfg, nullptr, &err);
            jsStreamInfo_Destroy(si);
            if (s == NATS_OK)
                return true;
            noteError(QStringLiteral("add stream %1 (JetStream error %2)").arg(QLatin1String(name)).arg(int(err)), s);
            if (clock.elapsed() >= 5000)
                return false;
            QThread::msleep(100);
        }
    }
    qint64 count(const char *stream)
    {
        jsStreamInfo *si = nullptr;
        jsErrCode err = jsErrCode(0);
        if (!m_js || js_GetStreamInfo(&si, m_js, stream, nullptr, &err) != NATS_OK)
            return -1;
        const qint64 n = qint64(si->State.Msgs);
        jsStreamInfo_Destroy(si);
        return n;
    }
    bool purge(const char *stream)
    {
        jsErrCode err = jsErrCode(0);
        return m_js && js_PurgeStream(m_js, stream, nullptr, &err) == NATS_OK;
    }
    Stored get(const char *stream, quint64 seq)
    {
        Stored out;
        natsMsg *msg = nullptr;
        jsErrCode err = jsErrCode(0);
        if (!m_js || js_GetMsg(&msg, m_js, stream, seq, nullptr, &err) != NATS_OK)
            return out;
        out.subject = QString::fromUtf8(natsMsg_GetSubject(msg));
        out.body = QByteArray(natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
        const char **keys = nullptr;
        int n = 0;
        if (natsMsgHeader_Keys(msg, &keys, &n) == NATS_OK) {
            for (int i = 0; i < n; ++i) {
                const char *value = nullptr;
                if (natsMsgHeader_Get(msg, keys[i], &value) == NATS_OK && value)
                    out.headers.insert(QByteArray(keys[i]).toLower(), QByteArray(value));
            }
            free(static_cast<void *>(keys));
        }
        natsMsg_Destroy(msg);
        return out;
    }
    // A core NATS message with headers (a probe for a subscriber).
    void publish(const char *subject, const QList<std::pair<const char *, const char *>> &headers, const char *body)
    {
        natsMsg *msg = nullptr;
        if (!m_nc || natsMsg_Create(&msg, subject, nullptr, body, int(strlen(body))) != NATS_OK)
            return;
        for (const auto &[k, v] : headers)
            natsMsgHeader_Set(msg, k, v);
        natsConnection_PublishMsg(m_nc, msg);
        natsConnection_Flush(m_nc);
        natsMsg_Destroy(msg);
    }

private:
    void noteError(const QString &what, natsStatus s)
    {
        m_error =
            QStringLiteral("%1: %2 (%3)")
                .arg(what, QString::fromUtf8(natsStatus_GetText(s)), QString::fromUtf8(nats_GetLastError(nullptr)));
    }

    natsConnection *m_nc = nullptr;
    jsCtx *m_js = nullptr;
    QString m_error;
};

} // namespace

class NatsTest : public BrokerTest
{
protected:
    std::unique_ptr<QTemporaryDir> m_serverDir;
    quint16 m_port = 0;
    std::unique_ptr<NatsServer> m_server;

    outbox::RelayerConfig config(const QString &subject, outbox::ContentMode mode = outbox::ContentMode::Binary) const
    {
        return fastConfig(QUrl(QStringLiteral("nats://127.0.0.1:%1/%2").arg(m_port).arg(subject)), mode);
    }
    void startServer(int maxPayload = 0)
    {
        m_server = std::make_unique<NatsServer>(m_serverDir->path(), m_port, maxPayload);
        QVERIFY2(m_server->start(), qPrintable(m_server->log()));
    }
    // Writes a secret file (a token, a seed, a credentials file), by default readable by its owner alone.
    static void writeSecret(const QString &path, const QByteArray &text,
        QFileDevice::Permissions permissions = QFileDevice::ReadOwner | QFileDevice::WriteOwner)
    {
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        f.write(text);
        f.close();
        QVERIFY(f.setPermissions(permissions));
    }
    // A fresh outbox, a directory and a port for the server (init), and all of it gone (cleanup).
    void openFixture()
    {
        openOutbox();
        m_serverDir = std::make_unique<QTemporaryDir>();
        m_port = freePort();
    }
    void closeFixture()
    {
        m_server.reset();
        closeOutbox();
    }
};
