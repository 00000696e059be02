// SPDX-License-Identifier: MIT
#pragma once

#include "connectionspec.h"

#include <QDialog>

class QLineEdit;
class QSpinBox;

namespace outbox::ui {

// Host, port, database, user and password of a PostgreSQL outbox. The password is never stored.
class ConnectDialog : public QDialog
{
    Q_OBJECT
public:
    explicit ConnectDialog(QWidget *parent = nullptr);
    void setSpec(const ConnectionSpec &spec);
    ConnectionSpec spec() const;
    QLineEdit *passwordEdit() const { return m_password; }

private:
    QLineEdit *m_host;
    QSpinBox *m_port;
    QLineEdit *m_database;
    QLineEdit *m_user;
    QLineEdit *m_password;
};

} // namespace outbox::ui
