-- salesmcp schema for MySQL 8 / MariaDB, at Alembic revision 0005.
-- Generated from salesmcp.store.schema; do not edit. After a schema change run:
--   python -m salesmcp.store.init_sql -o db/init.sql
-- For a new, empty database (docker compose runs it at MySQL's first start): it gives the
-- database the server makes itself, with the demo data; tables and rows that exist are left
-- alone. The server upgrades an older schema itself (salesmcp migrate).

SET NAMES utf8mb4;

CREATE TABLE IF NOT EXISTS customers (
    id INTEGER NOT NULL AUTO_INCREMENT,
    custid VARCHAR(32) COLLATE utf8mb4_bin NOT NULL,
    name VARCHAR(200) NOT NULL,
    first_name VARCHAR(100),
    last_name VARCHAR(100),
    email VARCHAR(254),
    phone VARCHAR(50),
    city VARCHAR(100),
    country VARCHAR(100),
    status VARCHAR(16) NOT NULL DEFAULT 'active',
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT pk_customers PRIMARY KEY (id),
    CONSTRAINT ck_customers_status CHECK (status IN ('active', 'disabled')),
    CONSTRAINT uq_customers_custid UNIQUE (custid),
    CONSTRAINT uq_customers_email UNIQUE (email),
    INDEX ix_customers_city (city)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS products (
    id INTEGER NOT NULL AUTO_INCREMENT,
    sku VARCHAR(64) NOT NULL,
    name VARCHAR(200) NOT NULL,
    category VARCHAR(100),
    price NUMERIC(14, 2) NOT NULL,
    stock INTEGER NOT NULL DEFAULT '0',
    active BOOL NOT NULL DEFAULT '1',
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT pk_products PRIMARY KEY (id),
    CONSTRAINT uq_products_sku UNIQUE (sku)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS generation_runs (
    id INTEGER NOT NULL AUTO_INCREMENT,
    seed BIGINT,
    rows_requested INTEGER NOT NULL,
    start_date DATE,
    end_date DATE,
    locale VARCHAR(32),
    status VARCHAR(16) NOT NULL,
    progress INTEGER NOT NULL DEFAULT '0',
    counts JSON,
    error TEXT,
    started_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    finished_at DATETIME,
    run_key VARCHAR(64),
    mode VARCHAR(16),
    params JSON,
    bases JSON,
    deferred_indexes BOOL NOT NULL DEFAULT false,
    heartbeat_at DATETIME,
    worker VARCHAR(120),
    flaws JSON,
    CONSTRAINT pk_generation_runs PRIMARY KEY (id),
    CONSTRAINT uq_generation_runs_run_key UNIQUE (run_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS orders (
    id BIGINT NOT NULL AUTO_INCREMENT,
    customer_id INTEGER NOT NULL,
    order_date DATE NOT NULL,
    status VARCHAR(16) NOT NULL DEFAULT 'PLACED',
    subtotal NUMERIC(14, 2) NOT NULL,
    tax NUMERIC(14, 2) NOT NULL DEFAULT '0',
    shipping_fee NUMERIC(14, 2) NOT NULL DEFAULT '0',
    total NUMERIC(14, 2) NOT NULL,
    CONSTRAINT pk_orders PRIMARY KEY (id),
    CONSTRAINT ck_orders_status CHECK (status IN ('PLACED', 'PAID', 'SHIPPED', 'DELIVERED', 'CANCELLED')),
    CONSTRAINT fk_orders_customer_id_customers FOREIGN KEY(customer_id) REFERENCES customers (id),
    INDEX ix_orders_customer_id_order_date_status_total (customer_id, order_date, status, total),
    INDEX ix_orders_order_date_id (order_date, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS order_items (
    id BIGINT NOT NULL AUTO_INCREMENT,
    order_id BIGINT NOT NULL,
    product_id INTEGER NOT NULL,
    quantity INTEGER NOT NULL,
    unit_price NUMERIC(14, 2) NOT NULL,
    line_total NUMERIC(14, 2) NOT NULL,
    CONSTRAINT pk_order_items PRIMARY KEY (id),
    CONSTRAINT fk_order_items_order_id_orders FOREIGN KEY(order_id) REFERENCES orders (id),
    CONSTRAINT fk_order_items_product_id_products FOREIGN KEY(product_id) REFERENCES products (id),
    INDEX ix_order_items_order_id (order_id),
    INDEX ix_order_items_product_id (product_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS payments (
    id BIGINT NOT NULL AUTO_INCREMENT,
    order_id BIGINT NOT NULL,
    method VARCHAR(32) NOT NULL,
    amount NUMERIC(14, 2) NOT NULL,
    currency VARCHAR(3) NOT NULL DEFAULT 'EUR',
    paid_at DATETIME,
    txn_ref VARCHAR(64),
    CONSTRAINT pk_payments PRIMARY KEY (id),
    CONSTRAINT fk_payments_order_id_orders FOREIGN KEY(order_id) REFERENCES orders (id),
    INDEX ix_payments_order_id (order_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS shipments (
    id BIGINT NOT NULL AUTO_INCREMENT,
    order_id BIGINT NOT NULL,
    carrier VARCHAR(64),
    tracking_no VARCHAR(64),
    shipped_at DATETIME,
    delivered_at DATETIME,
    status VARCHAR(16) NOT NULL,
    CONSTRAINT pk_shipments PRIMARY KEY (id),
    CONSTRAINT fk_shipments_order_id_orders FOREIGN KEY(order_id) REFERENCES orders (id),
    INDEX ix_shipments_order_id (order_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS returns (
    id BIGINT NOT NULL AUTO_INCREMENT,
    order_id BIGINT NOT NULL,
    order_item_id BIGINT NOT NULL,
    product_id INTEGER NOT NULL,
    quantity INTEGER NOT NULL,
    refund NUMERIC(14, 2) NOT NULL,
    reason VARCHAR(32) NOT NULL,
    returned_at DATETIME NOT NULL,
    refunded_at DATETIME,
    CONSTRAINT pk_returns PRIMARY KEY (id),
    CONSTRAINT ck_returns_quantity CHECK (quantity > 0),
    CONSTRAINT ck_returns_refund CHECK (refund >= 0),
    CONSTRAINT fk_returns_order_id_orders FOREIGN KEY(order_id) REFERENCES orders (id),
    CONSTRAINT fk_returns_order_item_id_order_items FOREIGN KEY(order_item_id) REFERENCES order_items (id),
    CONSTRAINT fk_returns_product_id_products FOREIGN KEY(product_id) REFERENCES products (id),
    INDEX ix_returns_order_id (order_id),
    UNIQUE INDEX ix_returns_order_item_id (order_item_id),
    INDEX ix_returns_product_id (product_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS alembic_version (
    version_num VARCHAR(32) NOT NULL,
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

INSERT IGNORE INTO customers (id, custid, name, first_name, last_name, email, phone, city, country, status) VALUES
    (11, '011', 'Annie', 'Annie', NULL, 'annie@example.com', '+31 40 555 0111', 'Eindhoven', 'Netherlands', 'active'),
    (12, '012', 'Bert', 'Bert', NULL, 'bert@example.com', '+31 40 555 0112', 'Eindhoven', 'Netherlands', 'active'),
    (13, '013', 'Carla', 'Carla', NULL, 'carla@example.com', '+31 492 555 013', 'Helmond', 'Netherlands', 'active'),
    (14, '014', 'Dirk', 'Dirk', NULL, 'dirk@example.com', '+31 13 555 0114', 'Tilburg', 'Netherlands', 'active'),
    (15, '015', 'Eric', 'Eric', NULL, 'eric@example.com', '+31 13 555 0115', 'Tilburg', 'Netherlands', 'active'),
    (16, '016', 'Fien', 'Fien', NULL, 'fien@example.com', '+31 40 555 0116', 'Eindhoven', 'Netherlands', 'active'),
    (17, '017', 'Gijs', 'Gijs', NULL, 'gijs@example.com', '+31 30 555 0117', 'Utrecht', 'Netherlands', 'active'),
    (18, '018', 'Hanna', 'Hanna', NULL, 'hanna@example.com', '+31 20 555 0118', 'Amsterdam', 'Netherlands', 'active'),
    (19, '019', 'Ivo', 'Ivo', NULL, 'ivo@example.com', '+31 10 555 0119', 'Rotterdam', 'Netherlands', 'active'),
    (20, '020', 'Jet', 'Jet', NULL, 'jet@example.com', '+31 76 555 0120', 'Breda', 'Netherlands', 'active');

INSERT IGNORE INTO orders (id, customer_id, order_date, status, subtotal, tax, shipping_fee, total) VALUES
    (501, 12, '2026-01-03', 'DELIVERED', 9.00, 0.00, 0.00, 9.00),
    (502, 14, '2026-01-07', 'DELIVERED', 11.00, 0.00, 0.00, 11.00),
    (503, 12, '2026-01-19', 'DELIVERED', 5.00, 0.00, 0.00, 5.00),
    (504, 16, '2026-01-19', 'DELIVERED', 21.00, 0.00, 0.00, 21.00),
    (505, 11, '2026-01-23', 'DELIVERED', 12.00, 0.00, 0.00, 12.00),
    (506, 13, '2026-01-27', 'DELIVERED', 3.00, 0.00, 0.00, 3.00),
    (507, 11, '2026-01-30', 'DELIVERED', 7.00, 0.00, 0.00, 7.00),
    (508, 12, '2026-02-03', 'DELIVERED', 9.00, 0.00, 0.00, 9.00),
    (509, 14, '2026-02-09', 'DELIVERED', 5.00, 0.00, 0.00, 5.00),
    (510, 15, '2026-02-09', 'DELIVERED', 5.00, 0.00, 0.00, 5.00),
    (511, 16, '2026-02-11', 'DELIVERED', 10.00, 0.00, 0.00, 10.00),
    (512, 14, '2026-02-17', 'DELIVERED', 7.00, 0.00, 0.00, 7.00);

INSERT INTO alembic_version (version_num)
SELECT '0005' FROM DUAL WHERE NOT EXISTS (SELECT 1 FROM alembic_version);
