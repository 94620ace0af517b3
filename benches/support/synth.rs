//! Synthetic specs of N entities with a realistic shape: references to earlier entities
//! with their indexes, enums, a resource per entity with filters, sorting, paging, owner
//! rules, rate limits and a cache policy.

use std::fmt::Write as _;

pub fn spec(entities: usize) -> String {
    let mut out = String::new();
    out.push_str(concat!(
        "service synth {\n  version = \"1.0.0\"\n  databases = [postgres, sqlite]\n",
        "  database_url = env(\"DATABASE_URL\", \"sqlite://synth.db\")\n  default_rate = reads\n}\n\n",
        "use std.types\nuse std.mixins\n\n",
        "auth {\n  identity = Account\n  login = email\n  password = password\n  roles = role\n  secret = env(\"JWT_SECRET\")\n  rate = strict\n}\n\n",
        "rate reads {\n  limit = 100\n  window = 1m\n  key = ip\n}\n\n",
        "rate strict {\n  limit = 10\n  window = 1m\n  key = ip\n}\n\n",
        "rate writes {\n  limit = 30\n  window = 1m\n  key = user\n}\n\n",
        "enum Role {\n  member\n  admin\n}\n\n",
        "enum State {\n  draft\n  active\n  archived\n}\n\n",
        "entity Account {\n  include uuid_id\n  email: Email @unique\n  password: password\n  role: Role @default(member) @readonly\n  include timestamps\n}\n\n",
    ));
    for i in 0..entities {
        entity(&mut out, i);
        resource(&mut out, i);
    }
    out
}

fn entity(out: &mut String, i: usize) {
    let _ = writeln!(
        out,
        "/// Synthetic entity number {i}.\nentity E{i} {{\n  include uuid_id"
    );
    let _ = writeln!(
        out,
        "  name: Name\n  code: string(1..40) @unique\n  state: State @default(draft)\n  amount: Money\n  owner: ref Account @on_delete(cascade)"
    );
    if i > 0 {
        let _ = writeln!(out, "  parent: ref E{}? @on_delete(set_null)", i - 1);
    }
    if i > 1 {
        let _ = writeln!(out, "  source: ref E{} @on_delete(restrict)", i / 2);
    }
    let _ = writeln!(
        out,
        "  include timestamps\n  index (state, created_at)\n  index (amount)\n  index (created_at)\n}}\n"
    );
}

fn resource(out: &mut String, i: usize) {
    let _ = writeln!(
        out,
        "cache c{i} {{\n  ttl = 30s\n  etag = true\n  invalidated_by = [r{i}.create, r{i}.update, r{i}.delete]\n}}\n"
    );
    let _ = writeln!(out, "resource r{i}: E{i} at \"/e{i}\" {{");
    let _ = writeln!(
        out,
        "  list {{\n    auth = owner(owner) or role(admin)\n    filter {{\n      state = state\n      min_amount = gte(amount)\n    }}\n    sort = [created_at, amount]\n    default_sort = desc(created_at)\n    page = 20\n    max_page = 100\n  }}"
    );
    let _ = writeln!(
        out,
        "  get {{\n    auth = owner(owner) or role(admin)\n    cache = c{i}\n  }}"
    );
    // Entities past the second have a required `source` reference, which creates must take.
    let fields = if i > 1 {
        "name, code, amount, source"
    } else {
        "name, code, amount"
    };
    let _ = writeln!(
        out,
        "  create {{\n    auth = authenticated\n    fields = [{fields}]\n    rate = writes\n    set {{\n      owner = auth.user\n    }}\n  }}"
    );
    let _ = writeln!(
        out,
        "  update {{\n    auth = owner(owner)\n    fields = [name, state, amount]\n    rate = writes\n  }}"
    );
    let _ = writeln!(
        out,
        "  delete {{\n    auth = owner(owner) or role(admin)\n    rate = writes\n  }}\n}}\n"
    );
}
