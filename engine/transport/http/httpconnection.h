// SPDX-License-Identifier: MIT
#pragma once

// Private: one connection of the HTTP client to its target (direct, through a proxy, or TLS), carrying one
// request at a time. It connects with a deadline of its own, writes a request once connected (on a
// TCP_NODELAY socket, in one write), reads the answer through the pure parser (httpparse.h) and tells the
// outcome: a 2xx status line is the delivery (its body gets a short grace, never a reason to send again); a
// connection closed before an answer, a malformed answer or a silence past the deadline is a retry; a failed
// connect leaves the target unavailable. The network worker (networkworker.h) only dispatches requests to
// connections; it never touches a socket.

#include "transport.h"

#include <QElapsedTimer>
#include <QNetworkProxy>
#include <QObject>
#include <QSslConfiguration>
#include <QTimer>
#include <QUrl>

#include <functional>
#include <optional>

class QSslSocket;

namespace outbox {

struct ParsedResponse;

// What every connection to the target shares.
struct HttpEndpoint
{
    QUrl target;
    bool https = false;
    quint16 port = 0; // the target's (or the scheme's default)
    QNetworkProxy proxy; // NoProxy, a SOCKS proxy, or an HTTP proxy (absoluteForm for plain http)
    bool absoluteForm = false; // plain http through an HTTP proxy: connect to the proxy, name the URL
    QSslConfiguration ssl; // https
    int timeoutMs = 10000; // connecting, and each request from when it is written
};

class HttpConnection final : public QObject
{
public:
    // The request ended (`reusable`: the answer was complete and the connection may carry another).
    using Finished = std::function<void(HttpConnection *, const DeliveryResult &, bool reusable)>;
    // An idle connection closed, timed out, or sent something unasked: the owner drops it.
    using Unusable = std::function<void(HttpConnection *)>;

    HttpConnection(const HttpEndpoint &endpoint, Finished finished, Unusable unusable);
    ~HttpConnection() override;

    bool isBusy() const { return m_busy; }
    bool isConnected() const { return m_connected; }
    // Idle and open, with nothing unasked waiting: may carry the next request.
    bool isReusable() const;
    // Starts a request (busy from here on): written at once when connected, else once connected.
    void start(QByteArray request);
    // Closes the socket; no signal of it arrives any more (the owner deletes the object later).
    void close();

private:
    void onConnected();
    void onReadyRead();
    void onClosed(const QString &error);
    void onTimer();
    void write();
    void finish(DeliveryResult result, bool reusable);
    DeliveryResult resultOf(const ParsedResponse &r) const;

    HttpEndpoint m_endpoint;
    Finished m_finished;
    Unusable m_unusable;
    QSslSocket *m_socket; // a QSslSocket in both cases; plain unless the target is https
    QTimer m_timer; // connect deadline, request deadline, or idle close
    bool m_connected = false; // ready to write (TLS handshake done for https)
    bool m_busy = false;
    bool m_closed = false;
    QByteArray m_request; // the bytes to write once connected
    QByteArray m_answer; // bytes read of the current answer
    QElapsedTimer m_clock; // since the request was written
    QStringList m_tlsProblems;
    quint64 m_generation = 0; // counts requests, so a late signal of an earlier one is ignored
    std::optional<DeliveryResult> m_decided; // a 2xx status line arrived: delivered, whatever the body does
    qint64 m_decidedAfterMs = 0;
};

} // namespace outbox
