"""Seed the retention table with common groups of records. Values are kept as data: the agency's archivist
checks them against Circular 10/2022/TT-BNV (Annex I) and its own sector's table and edits them in the admin;
a catalogue copies the years it chose, so editing a row never moves a file already planned."""

from django.db import migrations

# (code, title, years or None for permanent, source)
COMMON_GROUPS = [
    ("TH.01", "Hồ sơ xây dựng, ban hành Điều lệ tổ chức, Quy chế làm việc của cơ quan", 20,
     "Thông tư 10/2022/TT-BNV, Phụ lục I mục 3"),
    ("TH.02", "Kế hoạch, báo cáo công tác năm của cơ quan", None, "Thông tư 10/2022/TT-BNV, Phụ lục I"),
    ("TH.03", "Kế hoạch, báo cáo công tác quý, tháng", 5, "Thông tư 10/2022/TT-BNV, Phụ lục I"),
    ("TH.04", "Hồ sơ hội nghị tổng kết, sơ kết công tác của cơ quan", None, "Thông tư 10/2022/TT-BNV, Phụ lục I"),
    ("TH.05", "Văn bản trao đổi công tác chung", 10, "Thông tư 10/2022/TT-BNV, Phụ lục I"),
    ("TH.06", "Văn bản gửi để biết, để tham khảo", 5, "Thông tư 10/2022/TT-BNV, Phụ lục I"),
    ("VT.01", "Sổ đăng ký văn bản đi, văn bản đến", 20, "Thông tư 10/2022/TT-BNV, Phụ lục I"),
    ("VT.02", "Tập lưu văn bản đi của cơ quan", 50, "Thông tư 10/2022/TT-BNV, Phụ lục I"),
    ("VT.03", "Hồ sơ về công tác văn thư, lưu trữ (kế hoạch, báo cáo năm)", None, "Thông tư 10/2022/TT-BNV, Phụ lục I"),
    ("TC.01", "Hồ sơ xây dựng tổ chức bộ máy, chức năng, nhiệm vụ", None, "Thông tư 10/2022/TT-BNV, Phụ lục I"),
    ("TC.02", "Hồ sơ tuyển dụng, bổ nhiệm cán bộ, công chức", 70, "Thông tư 10/2022/TT-BNV, Phụ lục I"),
    ("TC.03", "Hồ sơ thi đua, khen thưởng của cơ quan", 20, "Thông tư 10/2022/TT-BNV, Phụ lục I"),
    ("TC.04", "Hồ sơ kỷ luật cán bộ, công chức", 70, "Thông tư 10/2022/TT-BNV, Phụ lục I"),
    ("TV.01", "Báo cáo quyết toán ngân sách năm", None, "Thông tư 10/2022/TT-BNV, Phụ lục I"),
    ("TV.02", "Chứng từ kế toán", 10, "Thông tư 10/2022/TT-BNV, Phụ lục I"),
    ("XD.01", "Hồ sơ công trình xây dựng cơ bản nhóm A, công trình quan trọng quốc gia", None,
     "Thông tư 10/2022/TT-BNV, Phụ lục I"),
    ("XD.02", "Hồ sơ công trình xây dựng cơ bản nhóm B, C", 20, "Thông tư 10/2022/TT-BNV, Phụ lục I"),
    ("TT.01", "Hồ sơ giải quyết khiếu nại, tố cáo", 15, "Thông tư 10/2022/TT-BNV, Phụ lục I"),
    ("HC.01", "Hồ sơ giải quyết thủ tục hành chính theo yêu cầu của cá nhân, tổ chức", 10,
     "Thông tư 10/2022/TT-BNV, Phụ lục I"),
    ("HC.02", "Văn bản, tài liệu có giá trị thời hạn dưới 5 năm (giấy mời, giấy giới thiệu)", 2,
     "Thông tư 10/2022/TT-BNV, Phụ lục I"),
]


def seed(apps, schema_editor):
    RetentionPeriod = apps.get_model("records", "RetentionPeriod")
    for order, (code, title, years, source) in enumerate(COMMON_GROUPS, start=1):
        RetentionPeriod.objects.get_or_create(
            code=code, defaults={"title": title, "years": years, "source": source, "sort_order": order * 10}
        )


class Migration(migrations.Migration):
    dependencies = [("records", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
