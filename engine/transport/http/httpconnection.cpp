// SPDX-License-Identifier: MIT
#include "httpconnection.h"

#include "httpparse.h"
#include "httpsender.h"

#include <QSslError>
#include <QSslSocket>

namespace outbox {

namespace {

constexpr int kIdleConnectionMs = 4000; // below Node's 5 s keep-alive timeout, so we close first
constexpr int kAnswerBodyGraceMs = 250; // after a 2xx status line, for its body to arrive

QString msText(qint64 ms)
{
    return QStringLiteral("%1 ms").arg(ms);
}

} // namespace

HttpConnection::HttpConnection(const HttpEndpoint &endpoint, Finished finished, Unusable unusable)
    : m_endpoint(endpoint), m_finished(std::move(finished)), m_unusable(std::move(unusable)), m_socket(new QSslSocket)
{
    m_socket->setProxy(m_endpoint.absoluteForm ? QNetworkProxy(QNetworkProxy::NoProxy) : m_endpoint.proxy);
    m_timer.setSingleShot(true);
    m_timer.setTimerType(Qt::PreciseTimer);
    QObject::connect(&m_timer, &QTimer::timeout, this, &HttpConnection::onTimer);
    QObject::connect(m_socket, &QIODevice::readyRead, this, &HttpConnection::onReadyRead);
    // Queued: a socket may report its end from inside a call of ours (write, flush, a wait).
    QObject::connect(
        m_socket, &QAbstractSocket::disconnected, this, [this] { onClosed(QString()); }, Qt::QueuedConnection);
    QObject::connect(
        m_socket, &QAbstractSocket::errorOccurred, this,
        [this](QAbstractSocket::SocketError error) {
            // Queued: it may arrive after close() (the socket gone).
            if (!m_closed && error != QAbstractSocket::RemoteHostClosedError)
                onClosed(m_socket->errorString());
        },
        Qt::QueuedConnection);
    if (m_endpoint.https) {
        m_socket->setSslConfiguration(m_endpoint.ssl);
        m_socket->setPeerVerifyName(m_endpoint.target.host());
        QObject::connect(m_socket, &QSslSocket::sslErrors, this, [this](const QList<QSslError> &errors) {
            for (const QSslError &e : errors)
                m_tlsProblems.append(e.errorString());
        });
        QObject::connect(m_socket, &QSslSocket::encrypted, this, &HttpConnection::onConnected);
    } else {
        QObject::connect(m_socket, &QAbstractSocket::connected, this, &HttpConnection::onConnected);
    }
    // Connecting has a deadline of its own; the request's starts when it is written.
    m_timer.start(m_endpoint.timeoutMs);
    const QString host = m_endpoint.absoluteForm ? m_endpoint.proxy.hostName() : m_endpoint.target.host();
    const quint16 port = m_endpoint.absoluteForm ? m_endpoint.proxy.port() : m_endpoint.port;
    if (m_endpoint.https)
        m_socket->connectToHostEncrypted(host, port);
    else
        m_socket->connectToHost(host, port);
}

HttpConnection::~HttpConnection()
{
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
        delete m_socket;
    }
}

bool HttpConnection::isReusable() const
{
    // A connection the peer closed while idle, or on which it sent something unasked, is not reused.
    return !m_closed && !m_busy && m_connected && m_socket->state() == QAbstractSocket::ConnectedState
        && m_socket->bytesAvailable() == 0;
}

void HttpConnection::close()
{
    if (m_closed)
        return;
    m_closed = true;
    m_timer.stop();
    m_socket->disconnect(this);
    m_socket->abort();
    // It may be closed from inside one of its own signals: the socket goes later.
    m_socket->deleteLater();
    m_socket = nullptr;
}

void HttpConnection::start(QByteArray request)
{
    m_busy = true;
    m_request = std::move(request);
    m_answer.clear();
    ++m_generation;
    if (m_connected)
        write();
}

void HttpConnection::write()
{
    m_clock.start();
    m_timer.start(m_endpoint.timeoutMs);
    m_socket->write(std::exchange(m_request, {}));
    m_socket->flush();
}

void HttpConnection::onConnected()
{
    if (m_closed)
        return;
    m_connected = true;
    m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    m_timer.stop();
    if (m_busy)
        write();
    else
        m_timer.start(kIdleConnectionMs);
}

void HttpConnection::onReadyRead()
{
    if (m_closed)
        return;
    if (!m_busy || m_request.size() > 0) {
        // Nothing was asked: the connection is not in a state we can trust.
        m_socket->readAll();
        if (!m_busy)
            m_unusable(this);
        return;
    }
    m_answer += m_socket->readAll();
    ParsedResponse r = parseHttpResponse(m_answer, false);
    if (r.state == ParsedResponse::Incomplete) {
        // A 2xx status line is the delivery: the receiver accepted the event. Its body gets a short grace to
        // arrive (so the connection can be kept), then is discarded; it is never a reason to send again.
        if (r.headComplete && r.status / 100 == 2 && !m_decided) {
            m_decided = resultOf(r);
            m_decidedAfterMs = m_clock.elapsed();
            m_timer.start(kAnswerBodyGraceMs);
        }
        // A long body is not waited for: the status is known, the rest is not ours to keep.
        if (!r.headComplete || m_answer.size() < kMaxAnswerHeadBytes + kMaxAnswerBodyRead)
            return;
        r = parseHttpResponse(m_answer, true);
        r.keepAlive = false;
    }
    const bool reusable = r.state == ParsedResponse::Complete && r.keepAlive && r.consumed == m_answer.size();
    finish(resultOf(r), reusable);
}

void HttpConnection::onClosed(const QString &error)
{
    if (m_closed)
        return;
    if (!m_busy) {
        m_unusable(this);
        return;
    }
    if (m_socket->bytesAvailable() > 0)
        m_answer += m_socket->readAll();
    DeliveryResult result;
    if (!m_connected) {
        if (!m_tlsProblems.isEmpty())
            result =
                DeliveryResult::retry(QStringLiteral("TLS certificate of %1 not accepted: %2")
                                          .arg(m_endpoint.target.host(), m_tlsProblems.join(QStringLiteral("; "))));
        else
            result =
                DeliveryResult::retry(error.isEmpty() ? QStringLiteral("connection closed while connecting") : error);
        result.cause = DeliveryResult::Cause::TargetUnavailable; // nothing of the event was sent
        result.durationMs = 0;
        finish(result, false);
        return;
    }
    if (m_request.size() > 0) {
        // Closed before the request was written: nothing reached the receiver.
        finish(DeliveryResult::retry(
                   error.isEmpty() ? QStringLiteral("connection closed before the request was sent") : error),
            false);
        return;
    }
    if (m_decided) {
        finish(*m_decided, false);
        return;
    }
    const ParsedResponse r = parseHttpResponse(m_answer, true);
    if (r.state == ParsedResponse::Complete || r.headComplete) {
        finish(resultOf(r), false);
        return;
    }
    QString why;
    if (m_answer.isEmpty())
        why = QStringLiteral("connection closed before an answer");
    else if (r.state == ParsedResponse::Bad && r.error != "connection closed in the middle of the answer head")
        why = QStringLiteral("malformed answer: %1").arg(QString::fromLatin1(r.error));
    else
        why = QStringLiteral("connection closed in the middle of the answer");
    if (!error.isEmpty() && m_answer.isEmpty())
        why += QStringLiteral(" (%1)").arg(error);
    finish(DeliveryResult::retry(why), false);
}

void HttpConnection::onTimer()
{
    if (m_closed)
        return;
    if (!m_busy) {
        m_unusable(this); // idle too long
        return;
    }
    if (!m_connected) {
        const QString host = m_endpoint.absoluteForm ? m_endpoint.proxy.hostName() : m_endpoint.target.host();
        DeliveryResult r = DeliveryResult::retry(
            QStringLiteral("connecting to %1 timed out after %2").arg(host, msText(m_endpoint.timeoutMs)));
        r.cause = DeliveryResult::Cause::TargetUnavailable;
        finish(r, false);
        return;
    }
    // An answer that arrived while this thread was not running (a paused process, a busy machine) is read
    // before the request is called timed out. Reading it may end this request, and the owner may start the
    // next one on this connection or close it, from inside these calls.
    const quint64 generation = m_generation;
    auto answered = [&] { return m_closed || m_generation != generation || !m_busy; };
    m_socket->waitForReadyRead(0); // may read and finish the request through readyRead
    if (answered())
        return;
    if (m_socket->bytesAvailable() > 0) {
        onReadyRead();
        if (answered())
            return;
    }
    if (m_decided) { // the body's grace is over: delivered, and this connection is not reused
        finish(*m_decided, false);
        return;
    }
    if (m_clock.elapsed() < m_endpoint.timeoutMs) {
        m_timer.start(int(m_endpoint.timeoutMs - m_clock.elapsed()));
        return;
    }
    DeliveryResult timedOut =
        DeliveryResult::retry(QStringLiteral("timed out after %1").arg(msText(m_endpoint.timeoutMs)));
    timedOut.cause = DeliveryResult::Cause::Timeout;
    finish(timedOut, false);
}

DeliveryResult HttpConnection::resultOf(const ParsedResponse &r) const
{
    if (r.state == ParsedResponse::Bad && !r.headComplete)
        return DeliveryResult::retry(QStringLiteral("malformed answer: %1").arg(QString::fromLatin1(r.error)));
    if (r.status >= 200 && r.status < 300)
        return DeliveryResult::sent(r.status); // the reason phrase, body and headers only matter otherwise
    DeliveryResult result = HttpSender::classify(r.status, r.reason, r.message.body, r.message.header("retry-after"));
    if (r.status / 100 == 3)
        result.error +=
            QStringLiteral(" (redirect to '%1' not followed)").arg(QString::fromUtf8(r.message.header("location")));
    return result;
}

void HttpConnection::finish(DeliveryResult result, bool reusable)
{
    m_busy = false;
    result.durationMs = m_clock.isValid() && m_request.isEmpty() ? m_clock.elapsed() : 0;
    if (m_decided)
        result.durationMs = m_decidedAfterMs; // until the status line, not the body's grace
    m_decided.reset();
    m_clock.invalidate();
    m_request.clear();
    m_answer.clear();
    m_timer.stop();
    if (reusable)
        m_timer.start(kIdleConnectionMs);
    else
        close();
    m_finished(this, result, reusable);
}

} // namespace outbox
