// SPDX-License-Identifier: MIT
#pragma once

#include "connectionspec.h"

#include <QDialog>

class QComboBox;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace outbox::detail {
class Dialect;
}

namespace outbox::ui {

// Server (PostgreSQL or MySQL/MariaDB), host, port, database, user and password of an outbox on a database
// server. The password is never stored.
class ConnectDialog : public QDialog
{
    Q_OBJECT
public:
    explicit ConnectDialog(QWidget *parent = nullptr);
    // Whether the spec names a database server of a kind this dialog offers (not a file, not another driver).
    static bool offers(const ConnectionSpec &spec);
    void setSpec(const ConnectionSpec &spec);
    ConnectionSpec spec() const;
    // Why the last attempt failed, shown above the buttons (the fields are kept for another try).
    void setError(const QString &error);
    QLineEdit *passwordEdit() const { return m_password; }
    QComboBox *serverBox() const { return m_server; }

private:
    const detail::Dialect *serverDialect() const;
    // The fields from a spec; `toPassword`: then on to the password (a pasted URL, a spec given whole).
    void fill(const ConnectionSpec &spec, bool toPassword);
    QLineEdit *m_url; // a pasted postgresql:// or mysql:// URL fills the fields
    qsizetype m_urlLength = 0; // its text's length before the last change
    QComboBox *m_sslMode;
    QString m_extraOptions; // connect options from a pasted URL beyond the TLS mode
    QLabel *m_error;
    QComboBox *m_server;
    QLineEdit *m_host;
    QSpinBox *m_port;
    QLineEdit *m_database;
    QLineEdit *m_user;
    QLineEdit *m_password;
};

} // namespace outbox::ui
